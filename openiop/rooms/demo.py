"""Demo sessions for this week: an individual session per active patient, rooms and attendance for every
session of the week that is already over (including the groups and family sessions other parts of the demo
made, so the weekly dose and its alerts show), and one individual session per clinician starting shortly,
so a room can be tried at once. Runs after the other demo builders. Deterministic (the caller's random
generator) and bulk-inserted."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from openiop.accounts.models import Program
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus
from openiop.rooms.models import Attendance, AttendanceStatus, MediaMode, Room
from openiop.scheduling.models import Session, SessionAttendee, SessionKind, SessionStatus

GROUP_DAYS = (0, 2, 3)  # Monday, Wednesday, Thursday


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def build_rooms_demo(program: Program, rng: random.Random, today: date) -> None:
    now = timezone.now()
    monday = today - timedelta(days=today.weekday())
    sessions: list[Session] = []
    plans: list[tuple[list[int], list[int], list[int]]] = []  # clinicians, patients, family guests

    active = Enrollment.objects.filter(patient__program=program, status=EnrollmentStatus.ACTIVE)
    primary = dict(
        CareTeamMember.objects.filter(patient__program=program, is_primary=True).values_list("patient", "clinician")
    )
    for index, patient_id in enumerate(sorted(active.values_list("patient_id", flat=True))):
        clinician = primary.get(patient_id)
        if clinician is None:
            continue
        day = monday + timedelta(days=(1, 4)[index % 2])  # Tuesday or Friday
        hour = 9 + index % 7
        sessions.append(
            Session(
                program=program,
                kind=SessionKind.INDIVIDUAL,
                title="Individual therapy",
                starts_at=_at(day, hour),
                ends_at=_at(day, hour, 50),
            )
        )
        plans.append(([clinician], [patient_id], []))

    # A session about to start for each clinician, so the room can be tried straight away.
    soon = now.replace(second=0, microsecond=0) + timedelta(minutes=5)
    by_clinician: dict[int, int] = {}
    active_ids = set(active.values_list("patient_id", flat=True))
    for patient_id, clinician in sorted(primary.items()):
        if patient_id in active_ids:
            by_clinician.setdefault(clinician, patient_id)
    for clinician, patient_id in sorted(by_clinician.items()):
        sessions.append(
            Session(
                program=program,
                kind=SessionKind.INDIVIDUAL,
                title="Check-in (starts soon)",
                starts_at=soon,
                ends_at=soon + timedelta(minutes=45),
            )
        )
        plans.append(([clinician], [patient_id], []))

    for session in sessions:
        if session.ends_at < now:
            session.status = SessionStatus.COMPLETED
    sessions = Session.objects.bulk_create(sessions, batch_size=2000)
    clinician_links, guest_links, attendees, rooms, attendance = [], [], [], [], []
    for session, (clinicians, patients, guests) in zip(sessions, plans, strict=True):
        clinician_links += [Session.clinicians.through(session_id=session.pk, user_id=c) for c in clinicians]
        guest_links += [Session.family_guests.through(session_id=session.pk, user_id=g) for g in guests]
        attendees += [SessionAttendee(session=session, patient_id=p) for p in patients]
        rooms.append(
            Room(session=session, media=MediaMode.MESH, finished_at=session.ends_at if session.ends_at < now else None)
        )
        if session.ends_at < now:
            scheduled = int((session.ends_at - session.starts_at).total_seconds())
            for patient_id in patients:
                attendance.append(_attendance(rng, session, patient_id, scheduled))
    # Sessions other parts of the demo made (groups, family sessions) that are already over this week:
    # rooms and attendance too, so the weekly dose counts them.
    others = (
        Session.objects.filter(program=program, starts_at__gte=_at(monday, 0), ends_at__lt=now)
        .exclude(pk__in=[s.pk for s in sessions])
        .exclude(room__isnull=False)
        .prefetch_related("attendees")
    )
    for session in others:
        rooms.append(Room(session=session, media=MediaMode.MESH, finished_at=session.ends_at))
        scheduled = int((session.ends_at - session.starts_at).total_seconds())
        for attendee in session.attendees.all():
            attendance.append(_attendance(rng, session, attendee.patient_id, scheduled))
    Session.clinicians.through.objects.bulk_create(clinician_links, batch_size=2000)
    Session.family_guests.through.objects.bulk_create(guest_links, batch_size=2000)
    SessionAttendee.objects.bulk_create(attendees, batch_size=2000)
    Room.objects.bulk_create(rooms, batch_size=2000)
    Attendance.objects.bulk_create(attendance, batch_size=2000)


def _attendance(rng: random.Random, session: Session, patient_id: int, scheduled: int) -> Attendance:
    status, share = rng.choices(
        [
            (AttendanceStatus.ATTENDED, 1.0),
            (AttendanceStatus.LATE, 0.8),
            (AttendanceStatus.PARTIAL, 0.5),
            (AttendanceStatus.ABSENT, 0.0),
        ],
        weights=[75, 8, 9, 8],
    )[0]
    seconds = int(scheduled * share)
    return Attendance(
        session=session,
        patient_id=patient_id,
        seconds_present=seconds,
        computed_seconds=seconds,
        status=status,
        computed_status=status,
        first_joined_at=None if seconds == 0 else session.starts_at,
        computed_at=session.ends_at,
    )
