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
from django.db.models import Count, Q
from django.utils import timezone

from openiop.accounts.models import Program, Role, User
from openiop.audit import services as audit
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, FamilyAccess, Patient
from openiop.outbox.services import queue_email
from openiop.scheduling import greedy, solver
from openiop.scheduling.explain import GroupFacts, SmallGroup, coverable, explain, small_groups
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
    BLOCK_HOURS,
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
    block_label,
    class_label,
    days_label,
    part_of_hour,
    pattern_label,
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


def blocks_set(raw: Any) -> frozenset[tuple[int, int]]:
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
            str(u.pk), u.display_name, blocks_set(a.blocks), a.max_hours, a.max_caseload, a.sees_adolescents
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
            last_slot[ap.patient_id] = (ap.day, part_of_hour(ap.hour))
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
            blocks_set(a.blocks if a else []),
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
    *,
    actor: User,
    program: Program,
    week_start: date,
    method: str = "cp-sat",
    time_limit: float | None = None,
    group_capacity: int | None = None,
) -> SchedulePlan:
    """Solve the week and store the result as a draft plan the coordinator can compare and publish.
    `time_limit`, `group_capacity`: instead of the settings (the demo keeps its groups to the size it built)."""
    week_start = monday_of(week_start)
    problem = build_problem(program, week_start)
    if time_limit is not None:
        problem.instance.settings = replace(problem.instance.settings, time_limit=time_limit)
    if group_capacity is not None:
        problem.instance.settings = replace(problem.instance.settings, group_capacity=group_capacity)
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
    earlier = SchedulePlan.objects.filter(program=plan.program, week_start__lte=plan.week_start).exclude(pk=plan.pk)
    if plan.published_at is None:  # a draft: against what is published now
        earlier = earlier.filter(status=PlanStatus.PUBLISHED)
    else:  # published (or since replaced): against what was published before it
        earlier = earlier.filter(published_at__lt=plan.published_at)
    base = earlier.order_by("-week_start", "-published_at").first()
    before, after = _where(base), _where(plan)
    changes = []
    patients = {p.pk: p for p in Patient.objects.filter(pk__in=set(before) | set(after))}
    for pid in sorted(set(before) | set(after)):
        b = " · ".join(x for x in before.get(pid, ("not scheduled", "")) if x)
        a = " · ".join(x for x in after.get(pid, ("not scheduled", "")) if x)
        if b != a:
            changes.append(Change(patients[pid], b, a))
    return base, changes


def small_groups_of(plan: SchedulePlan) -> list[SmallGroup]:
    """The plan's groups below their minimum size (the group's own, else the program's setting), and where their
    members could go instead (see explain.small_groups)."""
    rows = list(plan.groups.select_related("track", "facilitator", "therapy_group__slot"))
    members: dict[int, list[str]] = {}
    for group_id, patient_id in plan.assignments.filter(group__isnull=False).values_list("group_id", "patient_id"):
        members.setdefault(group_id, []).append(str(patient_id))
    facts = []
    for g in rows:
        slot = getattr(g.therapy_group, "slot", None) if g.therapy_group is not None else None
        facts.append(
            GroupFacts(
                str(g.pk),
                g.name,
                str(g.track_id),
                g.track.name,
                g.part,
                tuple(int(d) for d in g.days),
                g.facilitator.display_name,
                tuple(sorted(members.get(g.pk, []), key=int)),
                (slot.minimum_size if slot and slot.minimum_size else None) or settings.SCHEDULER_GROUP_MINIMUM,
                (slot.capacity if slot and slot.capacity else None) or settings.SCHEDULER_GROUP_CAPACITY,
            )
        )
    small = [f for f in facts if f.members and len(f.members) < f.minimum]
    if not small:
        return []
    track_ids = {f.track for f in small}
    involved = {m for f in facts if f.track in track_ids for m in f.members}
    available = {
        str(a.patient_id): blocks_set(a.blocks) for a in PatientAvailability.objects.filter(patient_id__in=involved)
    }
    busy: dict[str, set[tuple[int, int]]] = {}
    for ap in plan.appointments.filter(patient_id__in=involved):
        busy.setdefault(str(ap.patient_id), set()).add((ap.day, part_of_hour(ap.hour)))
    names = {str(p.pk): p.full_name for p in Patient.objects.filter(pk__in=involved)}
    return small_groups(facts, available=available, busy={k: frozenset(v) for k, v in busy.items()}, names=names)


def merge_plan_groups(*, actor: User, plan: SchedulePlan, source_id: int, target_id: int) -> int:
    """Move every member of a group below its minimum into another group of the draft plan (one that
    small_groups_of offers for all of them) and drop the emptied group. Returns how many moved."""
    with transaction.atomic():
        plan = SchedulePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.DRAFT:
            raise ScheduleError("Only a draft plan can be changed; build a new plan for the week instead.")
        source = plan.groups.filter(pk=source_id).first()
        target = plan.groups.filter(pk=target_id).first()
        if source is None or target is None or source.pk == target.pk:
            raise ScheduleError("Choose two different groups of this plan.")
        small = next((g for g in small_groups_of(plan) if g.group == str(source.pk)), None)
        if small is None:
            raise ScheduleError(f"{source.name} is not below its minimum size; nothing to merge.")
        option = next((o for o in small.options if o.target == str(target.pk)), None)
        if option is None or not option.everyone_fits:
            raise ScheduleError(f"Not everyone in {source.name} fits in {target.name}: {small.fix}.")
        moved = PlanAssignment.objects.filter(plan=plan, group=source).update(group=target)
        audit.record(
            "update",
            actor=actor,
            record=plan,
            program_id=plan.program_id,
            detail={"merged_group": source.name, "into": target.name, "patients_moved": moved},
        )
        source.delete()
    return moved


def _at(week_start: date, day: int, hour: int, minutes: int = 0) -> datetime:
    naive = datetime.combine(week_start + timedelta(days=day), time(hour, minutes))
    return timezone.make_aware(naive, timezone.get_current_timezone())


# --- publishing: the week's sessions follow the plan, touching only what changes ------------------------------


@dataclass(frozen=True)
class WantedSession:
    """A session the plan asks for."""

    kind: str
    starts_at: datetime
    ends_at: datetime
    title: str
    track_id: int | None
    plan_group_id: int | None
    therapy_group_id: int | None
    clinicians: frozenset[int]
    patients: frozenset[int]
    guests: frozenset[int]

    def key(self) -> tuple[Any, ...]:
        if self.kind == SessionKind.GROUP:
            # a standing group's meeting is the same session whoever comes; a group new in this plan has no
            # sessions yet
            group = self.therapy_group_id if self.therapy_group_id is not None else ("new", self.plan_group_id)
            return (self.kind, group, self.starts_at, self.ends_at)
        return (self.kind, self.starts_at, self.ends_at, tuple(sorted(self.clinicians)), tuple(sorted(self.patients)))


def _session_key(s: Session) -> tuple[Any, ...]:
    if s.kind == SessionKind.GROUP:
        return (s.kind, s.therapy_group_id, s.starts_at, s.ends_at)
    clinicians = tuple(sorted(c.pk for c in s.clinicians.all()))
    patients = tuple(sorted(a.patient_id for a in s.attendees.all()))
    return (s.kind, s.starts_at, s.ends_at, clinicians, patients)


def _people_of(s: Session) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
    return (
        frozenset(c.pk for c in s.clinicians.all()),
        frozenset(a.patient_id for a in s.attendees.all()),
        frozenset(g.pk for g in s.family_guests.all()),
    )


class Action:
    UNCHANGED = "unchanged"
    UPDATE = "update"
    CREATE = "create"
    CANCEL = "cancel"
    KEEP = "keep"  # differs from the plan, but has started or has a signed note: left exactly as it is
    PASSED = "passed"  # the plan puts it at a time already past this week: not created


@dataclass
class SessionChange:
    action: str
    session: Session | None = None  # the existing session (None: one to create)
    wanted: WantedSession | None = None  # what the plan asks for (None: the plan no longer has it)
    why: str = ""  # for KEEP: why it is left alone

    @property
    def starts_at(self) -> datetime:
        if self.session is not None:
            return self.session.starts_at
        assert self.wanted is not None
        return self.wanted.starts_at

    @property
    def kind(self) -> str:
        return self.session.kind if self.session is not None else self.wanted.kind  # type: ignore[union-attr]

    @property
    def title(self) -> str:
        if self.session is not None:
            return self.session.title or str(SessionKind(self.session.kind).label)
        assert self.wanted is not None
        return self.wanted.title

    def before(self) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
        empty: frozenset[int] = frozenset()
        return _people_of(self.session) if self.session is not None else (empty, empty, empty)

    def after(self) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
        empty: frozenset[int] = frozenset()
        if self.wanted is None:
            return (empty, empty, empty)
        return (self.wanted.clinicians, self.wanted.patients, self.wanted.guests)

    def affected(self) -> tuple[set[int], set[int]]:
        """(user ids, patient ids) of the people this change concerns: everyone in a new or cancelled session; in an
        updated one the patients and guests added or removed and its clinicians (whose list changed); nobody for a
        session that stays as it is."""
        if self.action in (Action.UNCHANGED, Action.KEEP, Action.PASSED):
            return set(), set()
        (c0, p0, g0), (c1, p1, g1) = self.before(), self.after()
        if self.action == Action.UPDATE:
            return set(c0 | c1) | set(g0 ^ g1), set(p0 ^ p1)
        return set(c0 | c1 | g0 | g1), set(p0 | p1)


@dataclass
class SessionDiff:
    changes: list[SessionChange]

    def of(self, action: str) -> list[SessionChange]:
        return [c for c in self.changes if c.action == action]

    @property
    def counts(self) -> dict[str, int]:
        actions = (Action.UNCHANGED, Action.UPDATE, Action.CREATE, Action.CANCEL, Action.KEEP, Action.PASSED)
        return {a: len(self.of(a)) for a in actions}

    @property
    def visible(self) -> list[SessionChange]:
        """What the coordinator should see: everything but the sessions that stay as they are."""
        return sorted((c for c in self.changes if c.action != Action.UNCHANGED), key=lambda c: c.starts_at)

    def patient_ids(self) -> set[int]:
        ids: set[int] = set()
        for c in self.visible:
            ids |= c.before()[1] | c.after()[1]
        return ids


def _wanted_sessions(plan: SchedulePlan) -> list[WantedSession]:
    members: dict[int, set[int]] = {}
    for group_id, patient_id in plan.assignments.filter(group__isnull=False).values_list("group_id", "patient_id"):
        members.setdefault(group_id, set()).add(patient_id)
    wanted = []
    for g in plan.groups.select_related("track__pattern"):
        hours = getattr(getattr(g.track, "pattern", None), "hours_per_day", 3)
        for d in g.days:
            start = _at(plan.week_start, int(d), PART_START_HOUR[g.part])
            wanted.append(
                WantedSession(
                    SessionKind.GROUP,
                    start,
                    start + timedelta(hours=hours),
                    g.name,
                    g.track_id,
                    g.pk,
                    g.therapy_group_id,
                    frozenset({g.facilitator_id}),
                    frozenset(members.get(g.pk, ())),
                    frozenset(),
                )
            )
    guests: dict[int, set[int]] = {}
    for patient_id, member_id in FamilyAccess.objects.filter(
        patient__program=plan.program, status=FamilyAccess.Status.ACTIVE, may_see_family_sessions=True
    ).values_list("patient_id", "family_member_id"):
        guests.setdefault(patient_id, set()).add(member_id)
    for ap in plan.appointments.all():
        start = _at(plan.week_start, ap.day, ap.hour)
        wanted.append(
            WantedSession(
                ap.kind,
                start,
                start + timedelta(hours=1),
                str(SessionKind(ap.kind).label),
                None,
                None,
                None,
                frozenset({ap.clinician_id}),
                frozenset({ap.patient_id}),
                frozenset(guests.get(ap.patient_id, ())) if ap.kind == SessionKind.FAMILY else frozenset(),
            )
        )
    return wanted


def _published_sessions(plan: SchedulePlan) -> list[Session]:
    """The live sessions of the week as published so far (cancelled ones are history)."""
    return list(
        Session.objects.filter(
            program=plan.program, plans__week_start=plan.week_start, plans__status=PlanStatus.PUBLISHED
        )
        .exclude(status=SessionStatus.CANCELLED)
        .distinct()
        .prefetch_related("clinicians", "attendees", "family_guests")
        .order_by("starts_at", "pk")
    )


def _why_left_alone(sessions: list[Session], now: datetime) -> dict[int, str]:
    """Sessions publishing must not touch, and why: started (or finished), people already in its room, or a
    signed note."""
    from openiop.treatment.models import NoteStatus

    ids = [s.pk for s in sessions]
    locked_note = [NoteStatus.SIGNED, NoteStatus.AWAITING_COSIGN]
    signed = set(Session.objects.filter(pk__in=ids, note__status__in=locked_note).values_list("pk", flat=True))
    joined = set(Session.objects.filter(pk__in=ids, presence_events__isnull=False).values_list("pk", flat=True))
    joined |= set(Session.objects.filter(pk__in=ids, attendance__isnull=False).values_list("pk", flat=True))
    why = {}
    for s in sessions:
        if s.pk in signed:
            why[s.pk] = "its note is signed"
        elif s.status == SessionStatus.COMPLETED or s.starts_at <= now:
            why[s.pk] = "it has already started"
        elif s.pk in joined:
            why[s.pk] = "people have already joined its room"
    return why


def session_changes(plan: SchedulePlan, now: datetime | None = None) -> SessionDiff:
    """What publishing `plan` does to the week's sessions: keep the unchanged ones (same kind, time, clinicians,
    members), update those whose people changed, cancel those the plan dropped, create the new ones. A session
    that has started or has a signed note is never touched: it is reported as kept instead. Reads only."""
    now = now or timezone.now()
    existing = _published_sessions(plan)
    locked = _why_left_alone(existing, now)
    # what the published plan asked for: a time that had passed then too is no news now
    asked_before = {
        w.key()
        for published in SchedulePlan.objects.filter(
            program=plan.program, week_start=plan.week_start, status=PlanStatus.PUBLISHED
        ).exclude(pk=plan.pk)
        for w in _wanted_sessions(published)
    }
    by_key: dict[tuple[Any, ...], list[Session]] = {}
    for s in existing:
        by_key.setdefault(_session_key(s), []).append(s)
    changes = []
    for w in _wanted_sessions(plan):
        matches = by_key.get(w.key())
        if matches:
            s = matches.pop(0)
            if _people_of(s) == (w.clinicians, w.patients, w.guests):
                changes.append(SessionChange(Action.UNCHANGED, s, w))
            elif s.pk in locked:
                changes.append(SessionChange(Action.KEEP, s, w, locked[s.pk]))
            else:
                changes.append(SessionChange(Action.UPDATE, s, w))
        elif w.starts_at > now:
            changes.append(SessionChange(Action.CREATE, None, w))
        elif w.key() not in asked_before:  # re-planning a week under way: the optimizer does not know which
            changes.append(SessionChange(Action.PASSED, None, w))  # days are over
    for leftovers in by_key.values():
        for s in leftovers:
            if s.pk in locked:
                changes.append(SessionChange(Action.KEEP, s, None, locked[s.pk]))
            else:
                changes.append(SessionChange(Action.CANCEL, s, None))
    return SessionDiff(changes)


def describe_change(change: SessionChange, names: dict[int, str]) -> str:
    """What happens to one session, in words for the coordinator (names: patient id -> name)."""

    def who(ids: frozenset[int] | set[int]) -> str:
        return ", ".join(sorted(names.get(i, f"patient {i}") for i in ids))

    (c0, p0, g0), (c1, p1, g1) = change.before(), change.after()
    if change.action == Action.CREATE:
        return f"new session for {who(p1)}" if p1 else "new session"
    if change.action == Action.CANCEL:
        return f"cancelled; a notice goes to {who(p0)}" if p0 else "cancelled"
    if change.action == Action.PASSED:
        return "not created: the plan puts it at a time that has already passed"
    parts = []
    if p1 - p0:
        parts.append(f"adds {who(p1 - p0)}")
    if p0 - p1:
        parts.append(f"removes {who(p0 - p1)}")
    if c0 != c1:
        parts.append("a different clinician leads it")
    if g0 != g1:
        parts.append("family guests change")
    what = "; ".join(parts) or "no change"
    if change.action == Action.KEEP:
        if change.wanted is None:
            return f"left as it is, because {change.why} (the plan no longer has it)"
        return f"left as it is, because {change.why} (the plan would: {what})"
    return what


@dataclass
class PublishResult:
    created: int
    updated: int
    cancelled: int
    unchanged: int
    kept: list[str]  # sessions left alone although the plan differs, in words
    notified: int
    passed: int = 0  # sessions the plan puts at times already past: not created


def _session_label(change: SessionChange, names: dict[int, str]) -> str:
    start = timezone.localtime(change.starts_at)
    label = f"{change.title} {start:%a %-d %b %H:%M}"
    if change.kind != SessionKind.GROUP:
        patients = change.before()[1] or change.after()[1]
        label += " with " + ", ".join(sorted(names.get(p, f"patient {p}") for p in patients))
    return label


def publish_plan(*, actor: User, plan: SchedulePlan, now: datetime | None = None) -> PublishResult:
    """Make the plan real in one transaction: standing groups and memberships, and the week's sessions brought in
    line with the plan (see session_changes). Only the people a change concerns hear about it, after commit; the
    plan published before for the week is superseded. Publishing an identical plan changes nothing."""
    with transaction.atomic():
        plan = SchedulePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.DRAFT:
            raise ScheduleError("This plan has already been published or replaced.")
        now = now or timezone.now()
        previous = list(
            SchedulePlan.objects.select_for_update().filter(
                program=plan.program, week_start=plan.week_start, status=PlanStatus.PUBLISHED
            )
        )
        _, changes = plan_changes(plan)
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
            _sync_memberships(group, members_by_group.get(g.pk, []), plan.week_start)
        diff = session_changes(plan, now)
        live: list[int] = []
        user_ids: set[int] = set()
        patient_ids: set[int] = set()
        for change in diff.changes:
            users, patients = change.affected()
            user_ids |= users
            patient_ids |= patients
            if change.action == Action.CREATE:
                assert change.wanted is not None
                live.append(_create_session(plan, change.wanted).pk)
            elif change.action == Action.UPDATE:
                assert change.session is not None
                _update_session(change)
                live.append(change.session.pk)
            elif change.action == Action.CANCEL:
                assert change.session is not None
                Session.objects.filter(pk=change.session.pk, status=SessionStatus.SCHEDULED).update(
                    status=SessionStatus.CANCELLED
                )
            elif change.action in (Action.UNCHANGED, Action.KEEP):  # KEEP: started or has a signed note
                assert change.session is not None
                live.append(change.session.pk)
        plan.sessions.add(*live)
        for old in previous:
            old.status = PlanStatus.SUPERSEDED
            old.save(update_fields=["status"])
        plan.status = PlanStatus.PUBLISHED
        plan.published_at = now
        plan.save(update_fields=["status", "published_at"])
        kept = diff.of(Action.KEEP)
        names = {p.pk: p.full_name for p in Patient.objects.filter(pk__in=diff.patient_ids())}
        people = [
            u
            for u in User.objects.filter(Q(pk__in=user_ids) | Q(patient_record__pk__in=patient_ids), is_active=True)
            .distinct()
            .order_by("pk")
            if u.email
        ]
        result = PublishResult(
            created=len(diff.of(Action.CREATE)),
            updated=len(diff.of(Action.UPDATE)),
            cancelled=len(diff.of(Action.CANCEL)),
            unchanged=len(diff.of(Action.UNCHANGED)),
            kept=[f"{_session_label(c, names)}: {describe_change(c, names)}" for c in kept],
            notified=len(people),
            passed=len(diff.of(Action.PASSED)),
        )
        audit.record(
            "update",
            actor=actor,
            record=plan,
            program_id=plan.program_id,
            detail={
                "published": plan.week_start.isoformat(),
                "sessions_created": result.created,
                "sessions_updated": result.updated,
                "sessions_cancelled": result.cancelled,
                "sessions_unchanged": result.unchanged,
                "sessions_kept": [c.session.pk for c in kept if c.session is not None],
                "sessions_past_not_created": result.passed,
                "patients_changed": len(changes),
                "people_notified": result.notified,
            },
        )
        # the outbox rows commit (or roll back) with the sessions; the outbox sends them after commit
        _notify(people, plan.week_start, plan.program)
    return result


def _create_session(plan: SchedulePlan, w: WantedSession) -> Session:
    session = Session.objects.create(
        program=plan.program,
        kind=w.kind,
        track_id=w.track_id,
        therapy_group_id=w.therapy_group_id,  # publish_plan gave every group of the plan its standing group
        title=w.title,
        starts_at=w.starts_at,
        ends_at=w.ends_at,
    )
    session.clinicians.add(*w.clinicians)
    if w.guests:
        session.family_guests.add(*w.guests)
    SessionAttendee.objects.bulk_create(SessionAttendee(session=session, patient_id=p) for p in sorted(w.patients))
    return session


def _update_session(change: SessionChange) -> None:
    """Bring an existing (not started, unsigned) session's people in line with the plan; its id, room, notes and
    attendance stay."""
    session = change.session
    assert session is not None
    (c0, p0, g0), (c1, p1, g1) = change.before(), change.after()
    SessionAttendee.objects.filter(session=session, patient_id__in=p0 - p1).delete()
    SessionAttendee.objects.bulk_create(SessionAttendee(session=session, patient_id=p) for p in sorted(p1 - p0))
    if c0 != c1:
        session.clinicians.remove(*(c0 - c1))
        session.clinicians.add(*(c1 - c0))
    if g0 != g1:
        session.family_guests.remove(*(g0 - g1))
        session.family_guests.add(*(g1 - g0))


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


# --- clinicians' availability ----------------------------------------------------------------------------------

MAX_HOURS_RANGE = (1, 60)
MAX_CASELOAD_RANGE = (0, 60)


@dataclass(frozen=True)
class ClinicianLimits:
    """What the director decides for a clinician; the clinician only chooses their free blocks."""

    max_hours: int
    max_caseload: int
    sees_adolescents: bool


@dataclass(frozen=True)
class LedGroup:
    name: str
    part: int
    days: tuple[int, ...]

    @property
    def blocks(self) -> set[tuple[int, int]]:
        return {(d, self.part) for d in self.days}

    @property
    def when(self) -> str:
        return pattern_label(self.part, self.days)

    @property
    def label(self) -> str:
        """The name, with when it meets unless the name already says so (groups the planner made do)."""
        return self.name if self.when in self.name else f"{self.name} ({self.when})"


@dataclass(frozen=True)
class GroupClash:
    """A standing group the clinician leads that meets in blocks they are about to give up."""

    group: LedGroup
    dropped: tuple[tuple[int, int], ...]

    def words(self) -> str:
        lost = ", ".join(block_label(b) for b in self.dropped)
        name = self.group.name if self.group.when in self.group.name else f"{self.group.name} meets {self.group.when}"
        return f"{name}: without {lost} the next plan has to give it another facilitator or another time"


class GroupClashError(ScheduleError):
    def __init__(self, clashes: list[GroupClash]) -> None:
        self.clashes = clashes
        super().__init__("; ".join(c.words() for c in clashes) + ".")


def _latest_published(program_id: int) -> SchedulePlan | None:
    return (
        SchedulePlan.objects.filter(program_id=program_id, status=PlanStatus.PUBLISHED)
        .order_by("-week_start", "-published_at")
        .first()
    )


def groups_led_by(clinician: User) -> list[LedGroup]:
    """The standing groups a clinician leads: in the plan published last, or (before any plan was published) the
    groups with a weekly slot and members that name them as a facilitator."""
    if clinician.program_id is None:
        return []
    latest = _latest_published(clinician.program_id)
    if latest is not None:
        rows = latest.groups.filter(facilitator=clinician, therapy_group__isnull=False).order_by("name")
        return [LedGroup(g.name, g.part, tuple(int(d) for d in g.days)) for g in rows]
    groups = (
        TherapyGroup.objects.filter(facilitators=clinician, slot__isnull=False, memberships__end_date__isnull=True)
        .select_related("slot")
        .distinct()
        .order_by("name")
    )
    return [LedGroup(g.name, g.slot.part, g.slot.day_list) for g in groups]


def group_clashes(clinician: User, blocks: list[tuple[int, int]]) -> list[GroupClash]:
    keep = set(blocks)
    result = []
    for group in groups_led_by(clinician):
        dropped = tuple(sorted(group.blocks - keep))
        if dropped:
            result.append(GroupClash(group, dropped))
    return result


def _valid_blocks(blocks: list[tuple[int, int]]) -> list[list[int]]:
    for item in blocks:
        if len(item) != 2 or not (0 <= int(item[0]) < 5 and 0 <= int(item[1]) < len(PARTS)):
            raise ScheduleError(f"{item!r} is not a weekday (0-4) and part of the day (0-2).")
    return [list(b) for b in sorted({(int(d), int(p)) for d, p in blocks})]


def save_clinician_availability(
    *,
    actor: User | None,
    clinician: User,
    blocks: list[tuple[int, int]],
    limits: ClinicianLimits | None = None,
    confirm: bool = False,
) -> ClinicianAvailability:
    """Store a clinician's free blocks (and, from the director, their limits) for the next plan.

    A clinician may change only their own blocks; `limits` are the director's. Giving up a block a standing group
    the clinician leads meets in raises GroupClashError naming the group, unless `confirm` says they know."""
    if clinician.role != Role.CLINICIAN:
        raise ScheduleError("Only clinicians are scheduled.")
    if actor is not None:
        if actor.program_id != clinician.program_id:
            raise ScheduleError("That clinician works in another program.")
        if actor.role == Role.CLINICIAN and (actor.pk != clinician.pk or limits is not None):
            raise ScheduleError("A clinician sets only their own free times; the program director sets the rest.")
        if actor.role not in (Role.CLINICIAN, Role.DIRECTOR):
            raise ScheduleError("Only the program director or the clinician may change this.")
    stored = _valid_blocks(blocks)
    if limits is not None:
        low, high = MAX_HOURS_RANGE
        if not low <= limits.max_hours <= high:
            raise ScheduleError(f"The most hours a week must be from {low} to {high}.")
        low, high = MAX_CASELOAD_RANGE
        if not low <= limits.max_caseload <= high:
            raise ScheduleError(f"The largest caseload must be from {low} to {high}.")
    with transaction.atomic():
        # lock the clinician's row so two saves of the same week cannot interleave
        User.objects.select_for_update().filter(pk=clinician.pk).first()
        clashes = group_clashes(clinician, [(d, p) for d, p in stored])
        if clashes and not confirm:
            raise GroupClashError(clashes)
        row = ClinicianAvailability.objects.filter(clinician=clinician).first()
        before = (
            {
                "blocks": row.blocks,
                "max_hours": row.max_hours,
                "max_caseload": row.max_caseload,
                "sees_adolescents": row.sees_adolescents,
            }
            if row
            else None
        )
        if row is None:
            row = ClinicianAvailability(clinician=clinician)
        row.blocks = stored
        if limits is not None:
            row.max_hours = limits.max_hours
            row.max_caseload = limits.max_caseload
            row.sees_adolescents = limits.sees_adolescents
        row.save()
        audit.record(
            "update" if before else "create",
            actor=actor,
            record=row,
            program_id=clinician.program_id,
            detail={
                "clinician": clinician.pk,
                "blocks": stored,
                "max_hours": row.max_hours,
                "max_caseload": row.max_caseload,
                "sees_adolescents": row.sees_adolescents,
                "before": before,
                "groups_losing_time": [c.group.name for c in clashes],
            },
        )
    return row


def set_clinician_availability(
    clinician: User,
    blocks: list[tuple[int, int]],
    *,
    max_hours: int = 32,
    max_caseload: int = 16,
    adolescents: bool = False,
) -> ClinicianAvailability:
    """For seeds and tests: everything at once, no questions asked."""
    return save_clinician_availability(
        actor=None,
        clinician=clinician,
        blocks=blocks,
        limits=ClinicianLimits(max_hours, max_caseload, adolescents),
        confirm=True,
    )


@dataclass
class ClinicianRow:
    clinician: User
    availability: ClinicianAvailability | None
    caseload: int
    groups: list[LedGroup]

    @property
    def schedulable(self) -> bool:
        return self.availability is not None and bool(blocks_set(self.availability.blocks))

    @property
    def free_hours(self) -> int:
        return len(blocks_set(self.availability.blocks)) * BLOCK_HOURS if self.availability else 0

    @property
    def summary(self) -> str:
        return blocks_summary(self.availability.blocks if self.availability else [])


def blocks_summary(raw: Any) -> str:
    """[[0, 2], [2, 2], [4, 2], [1, 0]] -> "Tue mornings; Mon/Wed/Fri evenings"."""
    by_part: dict[int, list[int]] = {}
    for d, p in sorted(blocks_set(raw)):
        by_part.setdefault(p, []).append(d)
    return "; ".join(
        f"{'Mon–Fri' if len(days) == 5 else days_label(days)} {PARTS[p]}s" for p, days in sorted(by_part.items())
    )


def clinician_rows(program_id: int) -> list[ClinicianRow]:
    """The program's active clinicians with their scheduler settings, primary caseload and groups."""
    staff = (
        User.objects.filter(program_id=program_id, role=Role.CLINICIAN, is_active=True)
        .select_related("availability")
        .annotate(
            primaries=Count(
                "care_team_roles",
                filter=Q(
                    care_team_roles__is_primary=True,
                    care_team_roles__patient__enrollments__status__in=[
                        EnrollmentStatus.ACTIVE,
                        EnrollmentStatus.PLANNED,
                    ],
                ),
                distinct=True,
            )
        )
        .order_by("last_name", "first_name", "pk")
    )
    latest = _latest_published(program_id)
    led: dict[int, list[LedGroup]] = {}
    if latest is not None:
        for g in latest.groups.filter(therapy_group__isnull=False).order_by("name"):
            led.setdefault(g.facilitator_id, []).append(LedGroup(g.name, g.part, tuple(int(d) for d in g.days)))
    return [
        ClinicianRow(
            u,
            getattr(u, "availability", None),
            u.primaries,
            led.get(u.pk, []) if latest is not None else groups_led_by(u),
        )
        for u in staff
    ]


@dataclass
class Unschedulable:
    clinicians: list[User]
    patients: int  # whose primary clinician is among them: the scheduler gives them someone else


def unschedulable_clinicians(program_id: int) -> Unschedulable:
    """Active clinicians the scheduler cannot use (no free blocks set), and how many patients that affects."""
    rows = [r for r in clinician_rows(program_id) if not r.schedulable]
    return Unschedulable([r.clinician for r in rows], sum(r.caseload for r in rows))


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
