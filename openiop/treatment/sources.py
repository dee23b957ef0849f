"""Figures that other parts of OpenIOP provide, each behind one function so it plugs in when that part lands.

Attendance comes from the session rooms (openiop.rooms), measures from openiop.measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from openiop.intake.models import Enrollment
from openiop.measures import queries as measures_queries
from openiop.rooms.models import Attendance, AttendanceStatus
from openiop.scheduling.models import Session


@dataclass(frozen=True)
class Dose:
    hours_delivered: Decimal
    weeks: int


@dataclass(frozen=True)
class Trajectory:
    instrument: str
    scores: list[tuple[date, int]]  # (day, total), oldest first
    baseline: int | None
    latest: int | None
    reliable_improvement: bool | None  # None: not judged for this instrument, or only one score
    reliable_worsening: bool | None
    response: bool | None
    remission: bool | None


PRESENT = (AttendanceStatus.ATTENDED, AttendanceStatus.LATE, AttendanceStatus.PARTIAL)


def _attended_seconds(enrollment: Enrollment) -> int:
    end = enrollment.end_date or timezone.localdate()
    rows = Attendance.objects.filter(
        patient_id=enrollment.patient_id,
        status__in=PRESENT,
        session__starts_at__date__range=(enrollment.start_date, end),
    )
    return int(rows.aggregate(total=Sum("seconds_present"))["total"] or 0)


def dose_delivered(enrollment: Enrollment) -> Dose:
    """Hours of care the patient attended in this episode so far, from attendance in the session rooms."""
    end = min(enrollment.end_date or timezone.localdate(), timezone.localdate())
    weeks = max(1, (end - enrollment.start_date).days // 7 + 1)
    return Dose(hours_delivered=(Decimal(_attended_seconds(enrollment)) / 3600).quantize(Decimal("0.1")), weeks=weeks)


def measure_trajectories(enrollment: Enrollment) -> list[Trajectory]:
    """Each questionnaire's totals during this episode, with reliable change, response and remission against
    its first score (openiop.measures)."""
    out = []
    for found in measures_queries.trajectories_in(enrollment):
        scored = [(p.authored_at.date(), p.total) for p in found.points if p.total is not None]
        change = found.change
        out.append(
            Trajectory(
                instrument=found.questionnaire.short_title or found.questionnaire.title,
                scores=scored,
                baseline=change.baseline if change else (scored[0][1] if scored else None),
                latest=change.current if change else (scored[-1][1] if scored else None),
                reliable_improvement=change.reliable_improvement if change else None,
                reliable_worsening=change.reliable_worsening if change else None,
                response=change.response if change else None,
                remission=change.remission if change else None,
            )
        )
    return out


def hours_attended(enrollment: Enrollment) -> Decimal:
    """Hours the patient attended in this episode (for the discharge summary)."""
    return (Decimal(_attended_seconds(enrollment)) / 3600).quantize(Decimal("0.1"))


def attendance_status(session: Session, patient_id: int) -> str | None:
    """attended / late / partial / absent once the session has ended and attendance was worked out; else None."""
    found = Attendance.objects.filter(session=session, patient_id=patient_id).exclude(
        status=AttendanceStatus.ENTERED_IN_ERROR
    )
    return found.values_list("status", flat=True).first()
