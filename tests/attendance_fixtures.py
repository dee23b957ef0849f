"""Sessions and attendance made by hand, and the dashboard's attendance figures counted again in plain Python
from every Attendance row (the independent computation the dashboard is checked against)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from openiop.accounts.models import Program
from openiop.intake.models import Enrollment, EnrollmentStatus, Patient
from openiop.rooms.models import Attendance
from openiop.scheduling.models import Session, SessionKind, Track

PRESENT = {"attended", "late", "partial"}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A time on the program's clock (TIME_ZONE), whatever the UTC date."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def make_session(program: Program, starts_at: datetime, hours: int = 3) -> Session:
    return Session.objects.create(
        program=program, kind=SessionKind.GROUP, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours)
    )


def attend(session: Session, patient: Patient, status: str, hours: float | None = None) -> Attendance:
    seconds = int(3600 * (hours if hours is not None else (0 if status == "absent" else 3)))
    return Attendance.objects.create(
        session=session, patient=patient, seconds_present=seconds, computed_seconds=seconds,
        status=status, computed_status=status, computed_at=timezone.now(),
    )  # fmt: skip


def attendance_by_week(
    program: Program, start: date, end: date, track: Track | None = None
) -> dict[date, tuple[int, int]]:
    """Week -> (present, expected), from each row: sessions of the program whose local start date is in the
    period; expected unless entered in error; with a track, only patients with a (valid) episode in it."""
    weeks: dict[date, tuple[int, int]] = {}
    for row in Attendance.objects.select_related("session"):
        day = timezone.localtime(row.session.starts_at).date()
        if row.session.program_id != program.pk or not start <= day <= end or row.status == "entered-in-error":
            continue
        if track is not None and not (
            Enrollment.objects.filter(patient_id=row.patient_id, track=track)
            .exclude(status=EnrollmentStatus.ENTERED_IN_ERROR)
            .exists()
        ):
            continue
        present, expected = weeks.get(monday(day), (0, 0))
        weeks[monday(day)] = (present + (row.status in PRESENT), expected + 1)
    return weeks


def series(weeks: dict[date, tuple[int, int]], start: date, end: date) -> list[tuple[date, int, int]]:
    """One entry per week of the period, as metrics.attendance_per_week gives it."""
    out = []
    week = monday(start)
    while week <= end:
        present, expected = weeks.get(week, (0, 0))
        out.append((week, present, expected))
        week += timedelta(weeks=1)
    return out
