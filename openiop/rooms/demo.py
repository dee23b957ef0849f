"""Demo sessions for this week: three 3-hour group meetings per group, an individual session per active
patient, a family session where a family member may join; attendance for what is already over (so the
weekly dose and its alerts show), and one individual session per clinician starting shortly, so a room
can be tried at once. Deterministic (the caller's random generator) and bulk-inserted."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from openiop.accounts.models import Program, User
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, FamilyAccess
from openiop.rooms.models import Attendance, AttendanceStatus, MediaMode, Room
from openiop.scheduling.models import GroupMembership, Session, SessionAttendee, SessionKind, SessionStatus

GROUP_DAYS = (0, 2, 3)  # Monday, Wednesday, Thursday


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def build_rooms_demo(program: Program, rng: random.Random, today: date) -> None:
    now = timezone.now()
    monday = today - timedelta(days=today.weekday())
    sessions: list[Session] = []
    plans: list[tuple[list[int], list[int], list[int]]] = []  # clinicians, patients, family guests

    memberships = GroupMembership.objects.filter(group__track__program=program, end_date__isnull=True)
    groups: dict[int, list[int]] = {}
    for membership in memberships:
        groups.setdefault(membership.group_id, []).append(membership.patient_id)
    facilitators = {
        group_id: user_id
        for group_id, user_id in User.objects.filter(facilitated_groups__track__program=program).values_list(
            "facilitated_groups", "pk"
        )
    }
    for group_id, members in sorted(groups.items()):
        for weekday in GROUP_DAYS:
            day = monday + timedelta(days=weekday)
            sessions.append(
                Session(
                    program=program,
                    kind=SessionKind.GROUP,
                    therapy_group_id=group_id,
                    title="Group therapy",
                    starts_at=_at(day, 17, 30),
                    ends_at=_at(day, 20, 30),
                )
            )
            plans.append(([facilitators[group_id]], members, []))

    active = Enrollment.objects.filter(patient__program=program, status=EnrollmentStatus.ACTIVE)
    primary = dict(
        CareTeamMember.objects.filter(patient__program=program, is_primary=True).values_list("patient", "clinician")
    )
    family = dict(
        FamilyAccess.objects.filter(
            patient__program=program, status=FamilyAccess.Status.ACTIVE, may_see_family_sessions=True
        ).values_list("patient", "family_member")
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
        if patient_id in family:
            sessions.append(
                Session(
                    program=program,
                    kind=SessionKind.FAMILY,
                    title="Family session",
                    starts_at=_at(day, hour + 1),
                    ends_at=_at(day, hour + 1, 50),
                )
            )
            plans.append(([clinician], [patient_id], [family[patient_id]]))

    # A session about to start for each clinician, so the room can be tried straight away.
    soon = now.replace(second=0, microsecond=0) + timedelta(minutes=5)
    by_clinician: dict[int, int] = {}
    for patient_id, clinician in sorted(primary.items()):
        if active.filter(patient_id=patient_id).exists():
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
                attendance.append(
                    Attendance(
                        session=session,
                        patient_id=patient_id,
                        seconds_present=seconds,
                        computed_seconds=seconds,
                        status=status,
                        computed_status=status,
                        first_joined_at=None if seconds == 0 else session.starts_at,
                        computed_at=session.ends_at,
                    )
                )
    Session.clinicians.through.objects.bulk_create(clinician_links, batch_size=2000)
    Session.family_guests.through.objects.bulk_create(guest_links, batch_size=2000)
    SessionAttendee.objects.bulk_create(attendees, batch_size=2000)
    Room.objects.bulk_create(rooms, batch_size=2000)
    Attendance.objects.bulk_create(attendance, batch_size=2000)
