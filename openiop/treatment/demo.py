"""Synthetic treatment data for the demo program: plans for active patients, group sessions tagged with
curriculum modules and their notes, individual notes (one a counseling note), progress reviews, and
discharge summaries with check-ins for finished patients. Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from openiop.accounts.models import Program
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus
from openiop.scheduling.models import Session, SessionAttendee, SessionKind, SessionStatus, TherapyGroup
from openiop.treatment.curriculum import BUILT_IN
from openiop.treatment.models import (
    Addendum,
    CheckIn,
    DischargeReason,
    DischargeSummary,
    Goal,
    GoalStatus,
    Intervention,
    InterventionKind,
    Note,
    NotePart,
    NoteStatus,
    PlanStatus,
    ProgressReview,
    TreatmentPlan,
)

PROBLEMS = [
    "Drinking more than intended on most evenings\nLow mood and poor sleep",
    "Daily cannabis use that gets in the way of work\nConflict at home",
    "Panic attacks when leaving the house\nIsolation from friends",
    "Low mood most days since a job loss\nSkipping meals",
]
WORDS = [
    "I want to be someone my kids can count on again.",
    "I'm tired of feeling like this every morning.",
    "I'd like to get back to work and feel normal.",
    "I want to stop hiding from everyone.",
]
GOALS = [
    (
        "Reduce low mood to mild or less",
        "PHQ-9 every two weeks",
        "Use one coping skill each day\nSchedule one pleasant activity a week",
    ),
    (
        "Build a relapse-prevention plan",
        "Written plan reviewed in individual therapy",
        "Name three high-risk situations\nList two people to call",
    ),
    (
        "Improve communication at home",
        "Family session check-in and self-rating 0-10",
        "Use an 'I' statement in one hard talk a week",
    ),
]
OBSERVATIONS = [
    "The group practised grounding and paced breathing. Members compared which skill felt more natural and "
    "planned when to use one this week.",
    "The group mapped high-risk situations and early warning signs, then discussed who to call when a craving builds.",
    "Role-play in pairs on asking for support and saying no. Several members found it easier the second time.",
]
PARTICIPATION = [
    "Active; shared an example from the week.",
    "Quiet at first, joined the pairs exercise.",
    "Engaged throughout; offered support to peers.",
]
PROGRESS = [
    "Used a coping skill twice this week.",
    "Has started a written relapse-prevention plan.",
    "Reports fewer arguments at home.",
]


def build(*, program: Program, today: date, seed: int) -> None:
    rng = random.Random(seed + 6)  # noqa: S311 - synthetic demo data, not secrets
    enrollments = list(
        Enrollment.objects.filter(
            patient__program=program, status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.FINISHED]
        )
        .select_related("patient")
        .order_by("pk")
    )
    primary = {
        m.patient_id: m.clinician
        for m in CareTeamMember.objects.filter(patient__program=program, is_primary=True).select_related("clinician")
    }
    now = timezone.now()

    plans = []
    for enrollment in enrollments:
        clinician = primary[enrollment.patient_id]
        finished = enrollment.status == EnrollmentStatus.FINISHED
        signed = timezone.make_aware(datetime.combine(enrollment.start_date + timedelta(days=3), time(15)))
        plans.append(
            TreatmentPlan(
                enrollment=enrollment,
                version=1,
                status=PlanStatus.COMPLETED if finished else PlanStatus.ACTIVE,
                problems=rng.choice(PROBLEMS),
                patient_words=rng.choice(WORDS),
                created_by=clinician,
                created_at=signed - timedelta(days=1),
                clinician_signed_by=clinician,
                clinician_signed_at=min(signed, now),
                patient_signed_at=min(signed, now),
                activated_at=min(signed, now),
                next_review_due=max(
                    enrollment.start_date + timedelta(days=17), today - timedelta(days=rng.randint(0, 20))
                ),
            )
        )
    TreatmentPlan.objects.bulk_create(plans, batch_size=1000)
    plans = list(TreatmentPlan.objects.filter(enrollment__patient__program=program).select_related("enrollment"))
    goals = []
    for plan in plans:
        for description, measure, objectives in rng.sample(GOALS, 2):
            status = (
                rng.choice([GoalStatus.ACHIEVED, GoalStatus.IMPROVING])
                if plan.status == PlanStatus.COMPLETED
                else GoalStatus.IN_PROGRESS
            )
            goals.append(
                Goal(
                    plan=plan,
                    description=description,
                    target_date=plan.enrollment.planned_end_date,
                    measured_by=measure,
                    objectives=objectives,
                    status=status,
                )
            )
    Goal.objects.bulk_create(goals, batch_size=1000)
    Intervention.objects.bulk_create(
        [
            Intervention(goal=goal, kind=InterventionKind.GROUP, module=BUILT_IN[index % 3].slug)
            for index, goal in enumerate(Goal.objects.filter(plan__enrollment__patient__program=program).order_by("pk"))
        ],
        batch_size=1000,
    )

    # Progress reviews: "continue" at week 4 for active patients past it.
    ProgressReview.objects.bulk_create(
        [
            ProgressReview(
                enrollment=e,
                week=4,
                decision="continue",
                previous_planned_end=e.planned_end_date,
                new_planned_end=e.planned_end_date,
                decided_by=primary[e.patient_id],
            )
            for e in enrollments
            if e.status == EnrollmentStatus.ACTIVE and (e.week_of_care(today) or 0) > 5
        ]
    )

    # Group sessions on the last three weekdays, tagged with modules; notes for the first two, signed.
    days: list[date] = []
    day = today - timedelta(days=1)
    while len(days) < 3:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    days.reverse()
    groups = list(
        TherapyGroup.objects.filter(track__program=program).prefetch_related("facilitators", "memberships__patient")
    )
    sessions: list[Session] = []
    for group in groups:
        for index, session_day in enumerate(days):
            start = timezone.make_aware(datetime.combine(session_day, time(17, 30)))
            sessions.append(
                Session(
                    program=program,
                    kind=SessionKind.GROUP,
                    track_id=group.track_id,
                    therapy_group=group,
                    title=group.name,
                    module=BUILT_IN[index % 3].slug,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=90),
                    status=SessionStatus.COMPLETED,
                )
            )
    Session.objects.bulk_create(sessions, batch_size=1000)
    sessions = list(Session.objects.filter(program=program, kind=SessionKind.GROUP).order_by("pk"))
    by_group: dict[int, list[Session]] = {}
    for session in sessions:
        by_group.setdefault(session.therapy_group_id or 0, []).append(session)
    through = Session.clinicians.through
    links: list[Any] = []
    attendees: list[SessionAttendee] = []
    notes: list[Note] = []
    members_of: dict[int, list[int]] = {}
    for group in groups:
        facilitator = next(iter(group.facilitators.all()))
        members = [m.patient_id for m in group.memberships.all() if m.end_date is None]
        for index, session in enumerate(by_group.get(group.pk, [])):
            links.append(through(session_id=session.pk, user_id=facilitator.pk))
            attendees.extend(SessionAttendee(session=session, patient_id=pid) for pid in members)
            members_of[session.pk] = members
            if index < 2 and members:
                notes.append(
                    Note(
                        session=session,
                        kind=SessionKind.GROUP,
                        author=facilitator,
                        status=NoteStatus.SIGNED,
                        module=session.module,
                        topic=BUILT_IN[index % 3].title,
                        observations=OBSERVATIONS[index % 3],
                        signed_at=session.ends_at + timedelta(hours=2),
                        created_at=session.ends_at,
                    )
                )
    through.objects.bulk_create(links, batch_size=1000)
    SessionAttendee.objects.bulk_create(attendees, batch_size=2000)
    Note.objects.bulk_create(notes, batch_size=1000)
    notes = list(Note.objects.filter(session__program=program).select_related("session"))
    patients = {e.patient_id: e.patient for e in enrollments}
    parts, addenda = [], []
    for note in notes:
        members = members_of[note.session_id]
        for pid in members:
            parts.append(
                NotePart(
                    note=note,
                    patient_id=pid,
                    participation=rng.choice(PARTICIPATION),
                    progress=rng.choice(PROGRESS),
                    risk="No risk indicators noted.",
                )
            )
        # An addendum that names one member, as happens in practice: every other member's copy must hide it.
        if members and members[0] in patients:
            named = patients[members[0]]
            addenda.append(
                Addendum(
                    note=note,
                    author=note.author,
                    text=f"Called {named.full_name} after group to follow up on the homework.",
                    created_at=note.signed_at or now,
                )
            )
    NotePart.objects.bulk_create(parts, batch_size=2000)
    Addendum.objects.bulk_create(addenda, batch_size=1000)

    # Individual therapy two days ago for the first few active patients, with a signed DAP note; the first
    # is a substance-use counseling note (shown only with the counseling-notes consent).
    active = [e for e in enrollments if e.status == EnrollmentStatus.ACTIVE][:6]
    start = timezone.make_aware(datetime.combine(days[-2], time(10)))
    individual = Session.objects.bulk_create(
        [
            Session(program=program, kind=SessionKind.INDIVIDUAL, title="Individual therapy", starts_at=start,
                    ends_at=start + timedelta(minutes=50), status=SessionStatus.COMPLETED)
            for _ in active
        ]
    )  # fmt: skip
    through.objects.bulk_create(
        [
            through(session_id=ses.pk, user_id=primary[e.patient_id].pk)
            for ses, e in zip(individual, active, strict=True)
        ]
    )
    SessionAttendee.objects.bulk_create(
        [SessionAttendee(session=ses, patient_id=e.patient_id) for ses, e in zip(individual, active, strict=True)]
    )
    dap = Note.objects.bulk_create(
        [
            Note(session=ses, kind=SessionKind.INDIVIDUAL, author=primary[e.patient_id], status=NoteStatus.SIGNED,
                 counseling_note=index == 0,
                 data="Reports two alcohol-free evenings; one argument at home handled by leaving the room.",
                 assessment="Engaged; uses skills from group; mood improving.",
                 plan="Continue the diary; practise one 'I' statement before the next session.",
                 signed_at=ses.ends_at + timedelta(hours=1), created_at=ses.ends_at)
            for index, (ses, e) in enumerate(zip(individual, active, strict=True))
        ]
    )  # fmt: skip
    NotePart.objects.bulk_create(
        [
            NotePart(note=n, patient_id=e.patient_id, risk="Denies thoughts of self-harm.")
            for n, e in zip(dap, active, strict=True)
        ]
    )

    # Discharge summaries for finished enrollments, with check-ins.
    summaries = []
    for e in enrollments:
        if e.status != EnrollmentStatus.FINISHED or e.end_date is None:
            continue
        summaries.append(
            DischargeSummary(
                enrollment=e,
                reason=DischargeReason.COMPLETED,
                discharge_date=e.end_date,
                services_received="Group therapy three evenings a week, weekly individual therapy, "
                "two family sessions.",
                hours_attended=Decimal(rng.randint(70, 110)),
                measure_change="PHQ-9 from moderate to mild.",
                outpatient_therapist="Community counseling clinic, weekly",
                support_groups="SMART Recovery, Tuesdays",
                crisis_plan="Call or text 988; call my sister; go to the nearest emergency department if unsafe.",
                written_by=primary[e.patient_id],
            )
        )
    DischargeSummary.objects.bulk_create(summaries, batch_size=1000)
    check_ins = []
    for summary in DischargeSummary.objects.filter(enrollment__patient__program=program):
        for days_after in (7, 30):
            due = summary.discharge_date + timedelta(days=days_after)
            answered = due + timedelta(days=3) < today  # older check-ins were answered: "I'm okay"
            check_ins.append(
                CheckIn(
                    discharge=summary,
                    days_after=days_after,
                    due_date=due,
                    answered_at=now if answered else None,
                    how_are_you="Doing okay, keeping up with my groups." if answered else "",
                    needs_help=False if answered else None,
                )
            )
    CheckIn.objects.bulk_create(check_ins, batch_size=1000)
