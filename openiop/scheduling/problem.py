"""The weekly scheduling problem and its answer, as plain data (no Django).

Time is a working week of five days, each with three parts (morning, afternoon, evening) of three hours: a
*block* is (day, part). Group sessions fill one block on each day of a *pattern* (e.g. Mon/Wed/Fri evenings);
individual and family sessions take one hour inside a block. A *class* is a track with one pattern; the solver
decides how many parallel groups each class runs and who leads them, and `split_class` turns that count into
concrete groups afterwards (one variable per interchangeable group copy made the model several times larger).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
PARTS = ("morning", "afternoon", "evening")
PART_START_HOUR = (9, 13, 18)
BLOCK_HOURS = 3
NEWCOMER_CANDIDATES = 24

Block = tuple[int, int]  # (day 0-4, part 0-2)
ClassKey = tuple[str, int, tuple[int, ...]]  # (track key, part, days)


def block_label(block: Block) -> str:
    return f"{DAYS[block[0]]} {PARTS[block[1]]}"


def days_label(days: Iterable[int]) -> str:
    return "/".join(DAYS[d] for d in sorted(days))


def pattern_label(part: int, days: Iterable[int]) -> str:
    """(2, (0, 2, 4)) -> "Mon/Wed/Fri evenings"."""
    return f"{days_label(days)} {PARTS[part]}s"


def class_label(key: ClassKey) -> str:
    return pattern_label(key[1], key[2])


@dataclass(frozen=True)
class TrackSpec:
    key: str
    label: str
    adolescent: bool
    focus: str
    parts: tuple[int, ...]  # parts of the day the track's groups may meet in
    hours_per_day: int = 3  # length of one group meeting (≤ BLOCK_HOURS)
    days_per_week: int = 3

    def classes(self) -> list[ClassKey]:
        return [(self.key, part, days) for part in self.parts for days in combinations(range(5), self.days_per_week)]

    @property
    def group_hours(self) -> int:
        return self.hours_per_day * self.days_per_week


@dataclass(frozen=True)
class ClinicianSpec:
    key: str
    name: str
    available: frozenset[Block]
    max_hours: int = 32
    max_caseload: int = 16
    sees_adolescents: bool = False


@dataclass(frozen=True)
class PatientSpec:
    key: str
    track: str
    available: frozenset[Block]
    required_hours: int = 9
    primary: str | None = None  # None: the solver chooses one (a newcomer)
    family_due: bool = False  # the plan has family sessions and one is due this week
    last_class: ClassKey | None = None
    last_group: str | None = None
    last_individual: Block | None = None
    last_individual_hour: int | None = None
    preferred_parts: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PreviousGroup:
    key: str
    class_key: ClassKey
    facilitator: str


@dataclass(frozen=True)
class Settings:
    group_capacity: int = 12
    group_minimum: int = 4
    group_target: int = 8
    time_limit: float = 10.0
    workers: int = 2
    relative_gap: float = 0.002
    seed: int = 0


@dataclass
class Instance:
    tracks: dict[str, TrackSpec]
    clinicians: dict[str, ClinicianSpec]
    patients: dict[str, PatientSpec]
    settings: Settings = field(default_factory=Settings)
    previous_groups: tuple[PreviousGroup, ...] = ()

    def patient_classes(self, patient: PatientSpec) -> list[ClassKey]:
        """Classes whose every meeting falls inside the patient's availability and that give enough hours."""
        track = self.tracks.get(patient.track)
        if track is None:
            return []
        extra = 1 + (1 if patient.family_due else 0)
        if track.group_hours + extra < patient.required_hours:
            return []
        return [c for c in track.classes() if all((d, c[1]) in patient.available for d in c[2])]

    def can_facilitate(self, clinician: ClinicianSpec, key: ClassKey) -> bool:
        track = self.tracks[key[0]]
        if track.adolescent and not clinician.sees_adolescents:
            return False
        if clinician.max_hours < track.group_hours:
            return False
        return all((d, key[1]) in clinician.available for d in key[2])

    def can_see(self, clinician: ClinicianSpec, patient: PatientSpec) -> bool:
        return not self.tracks[patient.track].adolescent or clinician.sees_adolescents

    def clinician_candidates(self, patient: PatientSpec) -> list[str]:
        """Who may hold the patient's individual (and family) session: the primary, or for a newcomer any
        compatible clinician sharing a free block (all of them: pruning to a few "best" ones piles newcomers
        onto the same people)."""
        if patient.primary is not None:
            fixed = self.clinicians.get(patient.primary)
            return [patient.primary] if fixed is not None and self.can_see(fixed, patient) else []
        load = self.fixed_caseload()
        fits = [
            (len(c.available & patient.available), c.max_caseload - load[k], k)
            for k, c in self.clinicians.items()
            if self.can_see(c, patient) and c.available & patient.available and c.max_caseload > load[k]
        ]
        # capacity-aware shortlist for big programs: most room left first, then most shared time
        fits.sort(key=lambda t: (-t[1], -t[0], t[2]))
        return [k for _, _, k in fits[:NEWCOMER_CANDIDATES]]

    def fixed_caseload(self) -> dict[str, int]:
        counts = dict.fromkeys(self.clinicians, 0)
        for p in self.patients.values():
            if p.primary in counts:
                counts[p.primary] += 1
        return counts


@dataclass
class GroupPlan:
    key: str  # a previous group's key when it carries on, else a new "track|part|days|n" key
    class_key: ClassKey
    facilitator: str
    members: list[str]
    is_new: bool = False


@dataclass(frozen=True)
class Appointment:
    patient: str
    clinician: str
    kind: str  # "individual" or "family"
    day: int
    hour: int  # start hour, one hour long

    @property
    def block(self) -> Block:
        return (self.day, part_of_hour(self.hour))


def part_of_hour(hour: int) -> int:
    for part, start in enumerate(PART_START_HOUR):
        if start <= hour < start + BLOCK_HOURS:
            return part
    raise ValueError(f"hour {hour} is outside every part of the day")


@dataclass
class Solution:
    solver: str
    groups: list[GroupPlan]
    appointments: list[Appointment]
    status: str = "unknown"
    seconds: float = 0.0
    objective: float | None = None
    bound: float | None = None
    # newcomers' chosen primary clinicians
    primaries: dict[str, str] = field(default_factory=dict)

    def group_of(self) -> dict[str, GroupPlan]:
        return {m: g for g in self.groups for m in g.members}

    def at_dose(self, instance: Instance) -> set[str]:
        """Patients with a group, an individual session and (when due) a family session, meeting their hours."""
        groups = self.group_of()
        kinds: dict[str, set[str]] = {}
        for a in self.appointments:
            kinds.setdefault(a.patient, set()).add(a.kind)
        result = set()
        for key, p in instance.patients.items():
            g = groups.get(key)
            got = kinds.get(key, set())
            if g is None or "individual" not in got or (p.family_due and "family" not in got):
                continue
            hours = instance.tracks[g.class_key[0]].group_hours + len(got)
            if hours >= p.required_hours:
                result.add(key)
        return result


def split_class(
    key: ClassKey,
    facilitators: list[str],
    members: list[str],
    instance: Instance,
    counter: dict[ClassKey, int],
) -> list[GroupPlan]:
    """Turn "class `key` runs len(facilitators) groups" into concrete groups, keeping last week's groups (and
    their members) together where the facilitator carries on, and filling the smallest group first."""
    previous = [g for g in instance.previous_groups if g.class_key == key]
    free = list(facilitators)
    plans: list[GroupPlan] = []
    for g in previous:
        if g.facilitator in free:
            free.remove(g.facilitator)
            plans.append(GroupPlan(g.key, key, g.facilitator, []))
    for g in previous:
        if free and all(p.key != g.key for p in plans):
            plans.append(GroupPlan(g.key, key, free.pop(0), []))
    while free:
        counter[key] = counter.get(key, 0) + 1
        plans.append(
            GroupPlan(f"{key[0]}|{key[1]}|{''.join(map(str, key[2]))}|{counter[key]}", key, free.pop(0), [], True)
        )
    if not plans:
        return []
    by_key = {p.key: p for p in plans}
    cap = instance.settings.group_capacity
    rest = []
    for m in sorted(members):
        last = instance.patients[m].last_group
        if last in by_key and len(by_key[last].members) < cap:
            by_key[last].members.append(m)
        else:
            rest.append(m)
    for m in rest:
        smallest = min(plans, key=lambda p: len(p.members))
        smallest.members.append(m)
    return plans


def place_appointments(
    requests: list[tuple[str, str, str, Block]], instance: Instance | None = None
) -> list[Appointment]:
    """Give each (patient, clinician, kind, block) request an hour. A clinician's requests in a block get
    distinct hours, so nobody is double-booked (a patient's sessions in one block share one clinician);
    an individual session keeps last week's hour when it is still free."""
    by_slot: dict[tuple[str, Block], list[tuple[str, str]]] = {}
    order = {"individual": 0, "family": 1}
    for patient, clinician, kind, block in sorted(requests, key=lambda r: (r[1], r[3], r[0], order.get(r[2], 2))):
        by_slot.setdefault((clinician, block), []).append((patient, kind))
    result = []
    for (clinician, block), items in by_slot.items():
        start = PART_START_HOUR[block[1]]
        free = [start + i for i in range(BLOCK_HOURS)]
        placed: dict[int, int] = {}
        for i, (patient, kind) in enumerate(items[:BLOCK_HOURS]):
            spec = instance.patients.get(patient) if instance else None
            wanted = spec.last_individual_hour if spec and kind == "individual" else None
            if wanted in free and spec is not None and spec.last_individual == block:
                free.remove(wanted)
                placed[i] = wanted
        for i, (patient, kind) in enumerate(items[:BLOCK_HOURS]):
            hour = placed.get(i)
            if hour is None:
                hour = free.pop(0)
            result.append(Appointment(patient, clinician, kind, block[0], hour))
    return result
