"""Weekly schedule: build the problem from the database, solve, compare, publish; calendar feeds.

Every write runs in a transaction and writes the audit log. The solver itself (solver.py) knows no Django."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import Program, Role, User
from openiop.audit import services as audit
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, FamilyAccess, Patient
from openiop.outbox.services import queue_email
from openiop.scheduling import greedy, solver
from openiop.scheduling.explain import coverable, explain
from openiop.scheduling.models import (
    CalendarFeed,
    ClinicianAvailability,
    GroupMembership,
    GroupSlot,
    PatientAvailability,
    PlanAppointment,
    PlanAssignment,
    PlanGroup,
    PlanStatus,
    Population,
    SchedulePlan,
    Session,
    SessionAttendee,
    SessionKind,
    SessionStatus,
    TherapyGroup,
    Track,
    TrackPattern,
)
from openiop.scheduling.problem import (
    PART_START_HOUR,
    PARTS,
    ClassKey,
    ClinicianSpec,
    Instance,
    PatientSpec,
    PreviousGroup,
    Settings,
    Solution,
    TrackSpec,
    class_label,
)


class ScheduleError(Exception):
    """Something the coordinator must fix before the week can be planned or published."""


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def solver_settings() -> Settings:
    return Settings(
        group_capacity=settings.SCHEDULER_GROUP_CAPACITY,
        group_minimum=settings.SCHEDULER_GROUP_MINIMUM,
        time_limit=float(settings.SCHEDULER_TIME_LIMIT_SECONDS),
        workers=settings.SCHEDULER_WORKERS,
    )


@dataclass
class Problem:
    instance: Instance
    patients: dict[str, Patient]
    clinicians: dict[str, User]
    tracks: dict[str, Track]
    groups: dict[str, TherapyGroup]
    previous: SchedulePlan | None


def _blocks(raw: Any) -> frozenset[tuple[int, int]]:
    result = set()
    for item in raw or []:
        if isinstance(item, list | tuple) and len(item) == 2 and 0 <= int(item[0]) < 5 and 0 <= int(item[1]) < 3:
            result.add((int(item[0]), int(item[1])))
    return frozenset(result)


def _class_of(group: TherapyGroup) -> ClassKey | None:
    slot = getattr(group, "slot", None)
    if slot is None:
        return None
    return (str(group.track_id), slot.part, slot.day_list)


def family_due(patient: Patient, week_start: date, enrollment: Enrollment) -> bool:
    every = settings.SCHEDULER_FAMILY_EVERY_WEEKS
    weeks = (week_start - monday_of(enrollment.start_date)).days // 7
    return weeks % every == 0


def active_enrollments(program: Program, week_start: date) -> list[Enrollment]:
    """Who is planned for the week: active enrollments, and planned ones starting by its end (rolling admission)."""
    week_end = week_start + timedelta(days=6)
    return list(
        Enrollment.objects.filter(
            patient__program=program,
            status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.PLANNED],
            start_date__lte=week_end,
        )
        .exclude(planned_end_date__lt=week_start)
        .select_related("patient", "track")
        .order_by("patient_id", "-start_date")
    )


def build_problem(program: Program, week_start: date) -> Problem:
    tracks = {str(t.pk): t for t in Track.objects.filter(program=program).select_related("pattern")}
    track_specs = {}
    for key, t in tracks.items():
        pattern = getattr(t, "pattern", None)
        parts = tuple(sorted({int(p) for p in (pattern.parts if pattern else [2]) if int(p) in (0, 1, 2)})) or (2,)
        track_specs[key] = TrackSpec(
            key,
            t.name,
            t.population == Population.ADOLESCENT,
            t.focus,
            parts,
            hours_per_day=pattern.hours_per_day if pattern else 3,
            days_per_week=pattern.days_per_week if pattern else 3,
        )
    staff = User.objects.filter(program=program, role=Role.CLINICIAN, is_active=True).select_related("availability")
    clinicians = {}
    clinician_specs = {}
    for u in staff:
        a = getattr(u, "availability", None)
        if a is None:
            continue
        clinicians[str(u.pk)] = u
        clinician_specs[str(u.pk)] = ClinicianSpec(
            str(u.pk), u.display_name, _blocks(a.blocks), a.max_hours, a.max_caseload, a.sees_adolescents
        )
    previous = (
        SchedulePlan.objects.filter(program=program, status=PlanStatus.PUBLISHED, week_start__lte=week_start)
        .order_by("-week_start", "-published_at")
        .first()
    )
    last_group: dict[int, PlanGroup] = {}
    last_slot: dict[int, tuple[int, int]] = {}
    last_hour: dict[int, int] = {}
    previous_groups: list[PreviousGroup] = []
    groups: dict[str, TherapyGroup] = {}
    if previous is not None:
        for g in previous.groups.select_related("therapy_group__slot"):
            if g.therapy_group is None:
                continue
            key = str(g.therapy_group_id)
            groups[key] = g.therapy_group
            previous_groups.append(
                PreviousGroup(key, (str(g.track_id), g.part, tuple(map(int, g.days))), str(g.facilitator_id))
            )
        for a in previous.assignments.select_related("group"):
            if a.group is not None and a.group.therapy_group_id is not None:
                last_group[a.patient_id] = a.group
        for ap in previous.appointments.filter(kind=SessionKind.INDIVIDUAL):
            part = next(i for i, s in enumerate(PART_START_HOUR) if s <= ap.hour < s + 3)
            last_slot[ap.patient_id] = (ap.day, part)
            last_hour[ap.patient_id] = ap.hour
    primaries = dict(
        CareTeamMember.objects.filter(patient__program=program, is_primary=True).values_list(
            "patient_id", "clinician_id"
        )
    )
    availability = {a.patient_id: a for a in PatientAvailability.objects.filter(patient__program=program)}
    patients: dict[str, Patient] = {}
    patient_specs = {}
    seen = set()
    for e in active_enrollments(program, week_start):
        p = e.patient
        if p.pk in seen or str(e.track_id) not in track_specs:
            continue
        seen.add(p.pk)
        a = availability.get(p.pk)
        adolescent = track_specs[str(e.track_id)].adolescent
        required = (a.required_hours if a and a.required_hours else None) or (
            settings.IOP_MIN_HOURS_ADOLESCENT if adolescent else settings.IOP_MIN_HOURS_ADULT
        )
        pg = last_group.get(p.pk)
        primary = primaries.get(p.pk)
        patients[str(p.pk)] = p
        patient_specs[str(p.pk)] = PatientSpec(
            str(p.pk),
            str(e.track_id),
            _blocks(a.blocks if a else []),
            required_hours=required,
            primary=str(primary) if primary is not None and str(primary) in clinician_specs else None,
            family_due=bool(a and a.family_sessions and family_due(p, week_start, e)),
            last_class=(str(pg.track_id), pg.part, tuple(map(int, pg.days))) if pg else None,
            last_group=str(pg.therapy_group_id) if pg else None,
            last_individual=last_slot.get(p.pk),
            last_individual_hour=last_hour.get(p.pk),
            preferred_parts=frozenset(int(x) for x in (a.preferred_parts if a else []) if x in (0, 1, 2)),
        )
    instance = Instance(track_specs, clinician_specs, patient_specs, solver_settings(), tuple(previous_groups))
    return Problem(instance, patients, clinicians, tracks, groups, previous)


def create_plan(
    *, actor: User, program: Program, week_start: date, method: str = "cp-sat", time_limit: float | None = None
) -> SchedulePlan:
    """Solve the week and store the result as a draft plan the coordinator can compare and publish."""
    week_start = monday_of(week_start)
    problem = build_problem(program, week_start)
    if time_limit is not None:
        problem.instance.settings = replace(problem.instance.settings, time_limit=time_limit)
    if not problem.instance.patients:
        raise ScheduleError("Nobody is enrolled for that week.")
    solution = greedy.solve(problem.instance) if method == "greedy" else solver.solve(problem.instance)
    at_dose = solution.at_dose(problem.instance)
    notes = explain(problem.instance, solution)
    with transaction.atomic():
        plan = SchedulePlan.objects.create(
            program=program,
            week_start=week_start,
            solver=solution.solver,
            solver_status=solution.status,
            seconds=round(solution.seconds, 2),
            patients=len(problem.instance.patients),
            at_dose=len(at_dose),
            coverable=len(coverable(problem.instance)),
            explanations=[
                {
                    "patient": int(e.patient),
                    "reason": e.reason,
                    "fix": e.fix,
                    "helps": [int(h) for h in e.helps],
                }
                for e in notes
            ],
            created_by=actor,
        )
        _store_solution(plan, problem, solution, at_dose)
        audit.record(
            "create",
            actor=actor,
            record=plan,
            program_id=program.pk,
            detail={"week": week_start.isoformat(), "solver": solution.solver, "at_dose": len(at_dose)},
        )
    return plan


def _store_solution(plan: SchedulePlan, problem: Problem, solution: Solution, at_dose: set[str]) -> None:
    group_rows = {}
    for g in solution.groups:
        existing = problem.groups.get(g.key)
        track = problem.tracks[g.class_key[0]]
        name = existing.name if existing else f"{track.name} · {class_label(g.class_key)}"
        group_rows[g.key] = PlanGroup.objects.create(
            plan=plan,
            therapy_group=existing,
            track=track,
            name=name,
            part=g.class_key[1],
            days="".join(map(str, g.class_key[2])),
            facilitator=problem.clinicians[g.facilitator],
        )
    member_of = solution.group_of()
    PlanAssignment.objects.bulk_create(
        PlanAssignment(
            plan=plan,
            patient=p,
            group=group_rows[member_of[key].key] if key in member_of else None,
            at_dose=key in at_dose,
        )
        for key, p in problem.patients.items()
    )
    PlanAppointment.objects.bulk_create(
        PlanAppointment(
            plan=plan,
            patient=problem.patients[a.patient],
            clinician=problem.clinicians[a.clinician],
            kind=a.kind,
            day=a.day,
            hour=a.hour,
        )
        for a in solution.appointments
    )


@dataclass
class Change:
    patient: Patient
    before: str
    after: str


def _where(plan: SchedulePlan | None) -> dict[int, tuple[str, str]]:
    """patient id -> (group description, individual time) in a plan."""
    if plan is None:
        return {}
    result: dict[int, tuple[str, str]] = {}
    for a in plan.assignments.select_related("group"):
        g = a.group
        if g is None:
            result[a.patient_id] = ("no group", "")
            continue
        when = class_label((str(g.track_id), g.part, tuple(int(d) for d in g.days)))
        result[a.patient_id] = (g.name if when in g.name else f"{g.name} ({when})", "")
    for ap in plan.appointments.filter(kind=SessionKind.INDIVIDUAL):
        group, _ = result.get(ap.patient_id, ("no group", ""))
        result[ap.patient_id] = (group, f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri')[ap.day]} {ap.hour}:00")
    return result


def plan_changes(plan: SchedulePlan) -> tuple[SchedulePlan | None, list[Change]]:
    """What publishing `plan` would change, against the plan published last (group and individual time)."""
    base = (
        SchedulePlan.objects.filter(program=plan.program, status=PlanStatus.PUBLISHED, week_start__lte=plan.week_start)
        .exclude(pk=plan.pk)
        .order_by("-week_start", "-published_at")
        .first()
    )
    before, after = _where(base), _where(plan)
    changes = []
    patients = {p.pk: p for p in Patient.objects.filter(pk__in=set(before) | set(after))}
    for pid in sorted(set(before) | set(after)):
        b = " · ".join(x for x in before.get(pid, ("not scheduled", "")) if x)
        a = " · ".join(x for x in after.get(pid, ("not scheduled", "")) if x)
        if b != a:
            changes.append(Change(patients[pid], b, a))
    return base, changes


def _at(week_start: date, day: int, hour: int, minutes: int = 0) -> datetime:
    naive = datetime.combine(week_start + timedelta(days=day), time(hour, minutes))
    return timezone.make_aware(naive, timezone.get_current_timezone())


def publish_plan(*, actor: User, plan: SchedulePlan) -> int:
    """Make the plan real: groups, memberships, sessions and attendees, in one transaction; notify on commit.

    A plan published earlier for the same week is superseded and its sessions still ahead are cancelled."""
    with transaction.atomic():
        plan = SchedulePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.DRAFT:
            raise ScheduleError("This plan has already been published or replaced.")
        _, changes = plan_changes(plan)
        now = timezone.now()
        cancelled = 0
        for old in SchedulePlan.objects.filter(
            program=plan.program, week_start=plan.week_start, status=PlanStatus.PUBLISHED
        ):
            old.status = PlanStatus.SUPERSEDED
            old.save(update_fields=["status"])
            cancelled += old.sessions.filter(starts_at__gte=now, status=SessionStatus.SCHEDULED).update(
                status=SessionStatus.CANCELLED
            )
        created = 0
        members_by_group: dict[int, list[int]] = {}
        for a in plan.assignments.all():
            if a.group_id is not None:
                members_by_group.setdefault(a.group_id, []).append(a.patient_id)
        for g in plan.groups.select_related("track", "therapy_group"):
            group = g.therapy_group
            if group is None:
                group = TherapyGroup.objects.create(track=g.track, name=g.name)
                GroupSlot.objects.create(group=group, part=g.part, days=g.days)
                g.therapy_group = group
                g.save(update_fields=["therapy_group"])
            group.facilitators.add(g.facilitator)
            members = members_by_group.get(g.pk, [])
            _sync_memberships(group, members, plan.week_start)
            hours = getattr(getattr(g.track, "pattern", None), "hours_per_day", 3)
            for d in g.days:
                start = _at(plan.week_start, int(d), PART_START_HOUR[g.part])
                if start < now:
                    continue
                session = Session.objects.create(
                    program=plan.program,
                    kind=SessionKind.GROUP,
                    track=g.track,
                    therapy_group=group,
                    title=g.name,
                    starts_at=start,
                    ends_at=start + timedelta(hours=hours),
                )
                session.clinicians.add(g.facilitator)
                plan.sessions.add(session)
                SessionAttendee.objects.bulk_create(SessionAttendee(session=session, patient_id=m) for m in members)
                created += 1
        guests: dict[int, list[int]] = {}
        for fa in FamilyAccess.objects.filter(
            patient__program=plan.program, status=FamilyAccess.Status.ACTIVE, may_see_family_sessions=True
        ):
            guests.setdefault(fa.patient_id, []).append(fa.family_member_id)
        for ap in plan.appointments.all():
            start = _at(plan.week_start, ap.day, ap.hour)
            if start < now:
                continue
            session = Session.objects.create(
                program=plan.program,
                kind=ap.kind,
                title=str(SessionKind(ap.kind).label),
                starts_at=start,
                ends_at=start + timedelta(hours=1),
            )
            session.clinicians.add(ap.clinician_id)
            plan.sessions.add(session)
            if ap.kind == SessionKind.FAMILY:
                session.family_guests.add(*guests.get(ap.patient_id, []))
            SessionAttendee.objects.create(session=session, patient_id=ap.patient_id)
            created += 1
        plan.status = PlanStatus.PUBLISHED
        plan.published_at = now
        plan.save(update_fields=["status", "published_at"])
        audit.record(
            "update",
            actor=actor,
            record=plan,
            program_id=plan.program_id,
            detail={
                "published": plan.week_start.isoformat(),
                "sessions_created": created,
                "sessions_cancelled": cancelled,
                "patients_changed": len(changes),
            },
        )
        # the outbox rows commit (or roll back) with the sessions; the outbox sends them after commit
        _notify(_people_to_notify(plan, changes), plan.week_start, plan.program)
    return created


def _sync_memberships(group: TherapyGroup, members: list[int], week_start: date) -> None:
    open_rows = GroupMembership.objects.filter(end_date__isnull=True, patient_id__in=members).exclude(group=group)
    open_rows.update(end_date=week_start)
    current = set(
        GroupMembership.objects.filter(group=group, end_date__isnull=True).values_list("patient_id", flat=True)
    )
    GroupMembership.objects.filter(group=group, end_date__isnull=True).exclude(patient_id__in=members).update(
        end_date=week_start
    )
    GroupMembership.objects.bulk_create(
        GroupMembership(group=group, patient_id=m, start_date=week_start) for m in members if m not in current
    )


def _people_to_notify(plan: SchedulePlan, changes: list[Change]) -> list[User]:
    """Patients whose group or time changed (or everyone scheduled, the first time) and their clinicians."""
    changed = {c.patient.pk for c in changes}
    users = list(User.objects.filter(patient_record__pk__in=changed, is_active=True))
    staff_ids = set(plan.groups.values_list("facilitator_id", flat=True)) | set(
        plan.appointments.filter(patient_id__in=changed).values_list("clinician_id", flat=True)
    )
    users += list(User.objects.filter(pk__in=staff_ids, is_active=True))
    return [u for u in users if u.email]


def _notify(people: list[User], week_start: date, program: Program) -> None:
    """An email per person: no clinical details, only that the schedule changed and where to look."""
    for person in people:
        queue_email(
            to=person.email,
            subject=f"Your OpenIOP schedule for the week of {week_start:%B %-d}",
            body=(
                f"Hello {person.first_name or person.username},\n\n"
                f"Your schedule for the week of {week_start:%B %-d} is ready or has changed. "
                "Sign in to OpenIOP to see it.\n"
            ),
            purpose="schedule",
            program=program,
        )


# --- calendars ------------------------------------------------------------------------------------------------


def sessions_for(user: User, start: datetime | None = None, end: datetime | None = None) -> list[Session]:
    """The sessions one person takes part in: as a patient, a clinician or an invited family member."""
    from django.db.models import Q

    if user.program_id is None:
        return []
    if user.role == Role.PATIENT:
        q = Q(attendees__patient__user=user)
    elif user.role == Role.FAMILY:
        q = Q(family_guests=user)
    else:
        q = Q(clinicians=user)
    qs = Session.objects.filter(q, program_id=user.program_id).exclude(status=SessionStatus.CANCELLED)
    if start is not None:
        qs = qs.filter(starts_at__gte=start)
    if end is not None:
        qs = qs.filter(starts_at__lt=end)
    return list(qs.distinct().prefetch_related("clinicians").order_by("starts_at"))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed(*, actor: User) -> str:
    """A new private feed token for `actor`; any earlier one stops working. Only the hash is kept."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        revoked = CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).update(revoked_at=timezone.now())
        feed = CalendarFeed.objects.create(user=actor, token_hash=_hash(token))
        audit.record("create", actor=actor, record=feed, detail={"replaced": revoked})
    return token


def revoke_feed(*, actor: User) -> int:
    with transaction.atomic():
        feeds = list(CalendarFeed.objects.select_for_update().filter(user=actor, revoked_at__isnull=True))
        for feed in feeds:
            feed.revoked_at = timezone.now()
            feed.save(update_fields=["revoked_at"])
            audit.record("update", actor=actor, record=feed, detail={"revoked": True})
    return len(feeds)


def feed_owner(token: str) -> User | None:
    feed = (
        CalendarFeed.objects.filter(token_hash=_hash(token), revoked_at__isnull=True, user__is_active=True)
        .select_related("user")
        .first()
    )
    return feed.user if feed else None


def calendar_bytes(user: User) -> bytes:
    """The person's sessions as iCalendar. Titles name the kind of session and the clinician, never a patient."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//OpenIOP//schedule//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "OpenIOP sessions")
    since = timezone.now() - timedelta(days=28)
    for s in sessions_for(user, start=since):
        event = Event()
        event.add("uid", f"session-{s.pk}@openiop")
        event.add("dtstart", s.starts_at)
        event.add("dtend", s.ends_at)
        event.add("dtstamp", timezone.now())
        title = str(SessionKind(s.kind).label)
        if s.kind == SessionKind.GROUP and user.role != Role.FAMILY:
            title = s.title or title
        leaders = ", ".join(c.display_name for c in s.clinicians.all())
        event.add("summary", f"{title} ({leaders})" if leaders and user.role != Role.CLINICIAN else title)
        event.add("description", "Join from OpenIOP when the session starts.")
        cal.add_component(event)
    return bytes(cal.to_ical())


def week_grid(sessions: list[Session], week_start: date) -> list[dict[str, Any]]:
    """Rows of a staff week grid: one per part of the day, one cell per weekday."""
    rows = []
    for part, start in enumerate(PART_START_HOUR):
        cells = []
        for d in range(5):
            day = week_start + timedelta(days=d)
            cells.append(
                [
                    s
                    for s in sessions
                    if timezone.localtime(s.starts_at).date() == day
                    and start <= timezone.localtime(s.starts_at).hour < start + 3
                ]
            )
        rows.append({"part": PARTS[part], "start": start, "cells": cells})
    return rows


def ensure_pattern(track: Track, parts: list[int], hours_per_day: int = 3) -> TrackPattern:
    pattern, _ = TrackPattern.objects.update_or_create(
        track=track, defaults={"parts": parts, "hours_per_day": hours_per_day}
    )
    return pattern


def set_clinician_availability(
    clinician: User,
    blocks: list[tuple[int, int]],
    *,
    max_hours: int = 32,
    max_caseload: int = 16,
    adolescents: bool = False,
) -> ClinicianAvailability:
    row, _ = ClinicianAvailability.objects.update_or_create(
        clinician=clinician,
        defaults={
            "blocks": [list(b) for b in blocks],
            "max_hours": max_hours,
            "max_caseload": max_caseload,
            "sees_adolescents": adolescents,
        },
    )
    return row


def set_patient_availability(
    *,
    actor: User | None,
    patient: Patient,
    blocks: list[tuple[int, int]],
    family_sessions: bool = False,
    required_hours: int | None = None,
) -> PatientAvailability:
    with transaction.atomic():
        row, _ = PatientAvailability.objects.update_or_create(
            patient=patient,
            defaults={
                "blocks": sorted([list(b) for b in set(blocks)]),
                "family_sessions": family_sessions,
                "required_hours": required_hours,
            },
        )
        audit.record(
            "update",
            actor=actor,
            record=row,
            patient=patient,
            detail={"blocks": len(set(blocks)), "family_sessions": family_sessions, "required_hours": required_hours},
        )
    return row
