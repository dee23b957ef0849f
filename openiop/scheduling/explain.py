"""Why a patient could not be fully placed, in words a coordinator can act on, and what would fix it.
Pure: no Django.

Also `coverable`: an upper bound on who could reach the full dose at all (each necessary condition checked on
its own: a compatible pattern someone could lead, and a free hour with a clinician who may see them)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from openiop.scheduling.problem import (
    DAYS,
    PARTS,
    ClassKey,
    Instance,
    PatientSpec,
    Solution,
    block_label,
    class_label,
    pattern_label,
)


@dataclass
class Explanation:
    patient: str
    reason: str
    fix: str
    # patients the suggested fix would also help (same track, same missing pattern)
    helps: list[str] = field(default_factory=list)


def coverable(instance: Instance) -> set[str]:
    result = set()
    for key, p in instance.patients.items():
        if _placeable_somewhere(instance, p):
            result.add(key)
    return result


def _placeable_somewhere(instance: Instance, p: PatientSpec) -> bool:
    candidates = [instance.clinicians[k] for k in instance.clinician_candidates(p)]
    for c in instance.patient_classes(p):
        if not any(instance.can_facilitate(k, c) for k in instance.clinicians.values()):
            continue
        busy = {(d, c[1]) for d in c[2]}
        if any((p.available - busy) & k.available for k in candidates):
            return True
    return False


def _availability_words(p: PatientSpec, parts: tuple[int, ...]) -> str:
    by_part = defaultdict(list)
    for d, part in sorted(p.available):
        if part in parts:
            by_part[part].append(DAYS[d])
    if not by_part:
        return "not available in any of the track's hours"
    return "available only " + "; ".join(f"{'/'.join(days)} {PARTS[part]}s" for part, days in sorted(by_part.items()))


def explain(instance: Instance, solution: Solution) -> list[Explanation]:
    at_dose = solution.at_dose(instance)
    groups = solution.group_of()
    kinds: dict[str, set[str]] = defaultdict(set)
    for a in solution.appointments:
        kinds[a.patient].add(a.kind)
    offered: dict[str, set[ClassKey]] = defaultdict(set)
    for g in solution.groups:
        offered[g.class_key[0]].add(g.class_key)
    missing = [p for k, p in sorted(instance.patients.items()) if k not in at_dose]
    result = []
    for p in missing:
        track = instance.tracks.get(p.track)
        if track is None:
            result.append(Explanation(p.key, "is not enrolled in a track", "enroll them in a track"))
            continue
        options = instance.patient_classes(p)
        meets = ", ".join(sorted({class_label(c) for c in offered[track.key]})) or "nowhere yet"
        if track.group_hours + 2 < p.required_hours:
            result.append(
                Explanation(
                    p.key,
                    f"needs {p.required_hours} hours a week; {track.label} groups give {track.group_hours}",
                    "lower the required hours or move them to a track with longer groups",
                )
            )
            continue
        if not options:
            words = _availability_words(p, track.parts)
            result.append(
                Explanation(
                    p.key,
                    f"{words}; {track.label} groups need {track.days_per_week} days in one part of the day "
                    f"(they meet {meets})",
                    f"ask whether they can free one more {' or '.join(PARTS[x] for x in track.parts)} this week, "
                    "or offer a mixed or 4-day pattern",
                )
            )
            continue
        group = groups.get(p.key)
        if group is None:
            result.append(_no_group(instance, solution, p, options, missing, meets))
            continue
        got = kinds[p.key]
        clinician_key = p.primary or solution.primaries.get(p.key)
        clinician = instance.clinicians.get(clinician_key or "")
        busy = {(d, group.class_key[1]) for d in group.class_key[2]}
        need = "an individual session" if "individual" not in got else "a family session"
        if clinician is None:
            result.append(
                Explanation(p.key, f"has a group but no clinician with room for {need}", "assign a primary clinician")
            )
            continue
        shared = sorted((p.available - busy) & clinician.available)
        if not shared:
            free = ", ".join(block_label(b) for b in sorted(p.available - busy)) or "no other time"
            result.append(
                Explanation(
                    p.key,
                    f"has a group but {clinician.name} is never free when they are ({free})",
                    f"ask {clinician.name} to open an hour in one of those times, or change primary clinician",
                )
            )
        else:
            times = ", ".join(block_label(b) for b in shared)
            result.append(
                Explanation(
                    p.key,
                    f"has a group but {clinician.name}'s shared times ({times}) are full, for {need}",
                    f"free an hour of {clinician.name}'s at one of those times or raise their weekly hours",
                )
            )
    return result


def _no_group(
    instance: Instance,
    solution: Solution,
    p: PatientSpec,
    options: list[ClassKey],
    missing: list[PatientSpec],
    meets: str,
) -> Explanation:
    track = instance.tracks[p.track]
    words = _availability_words(p, track.parts)
    hours_used: dict[str, int] = defaultdict(int)
    leading = {(g.facilitator, (d, g.class_key[1])) for g in solution.groups for d in g.class_key[2]}
    for g in solution.groups:
        hours_used[g.facilitator] += instance.tracks[g.class_key[0]].group_hours
    for a in solution.appointments:
        hours_used[a.clinician] += 1
    booked = {(a.clinician, a.block) for a in solution.appointments}
    # the pattern that would help the most unplaced people of this track, and a clinician free to lead it
    best: tuple[int, ClassKey, str, list[str]] | None = None
    placed = solution.group_of()
    for c in options:
        helped = [
            q.key for q in missing if q.track == p.track and q.key not in placed and c in instance.patient_classes(q)
        ]
        for kk, k in sorted(instance.clinicians.items()):
            blocks = [(d, c[1]) for d in c[2]]
            if (
                instance.can_facilitate(k, c)
                and hours_used[kk] + track.group_hours <= k.max_hours
                and not any((kk, b) in leading or (kk, b) in booked for b in blocks)
            ):
                if best is None or len(helped) > best[0]:
                    best = (len(helped), c, k.name, helped)
                break
    if best is None:
        fits = ", ".join(class_label(c) for c in options[:4])
        return Explanation(
            p.key,
            f"{words}; the {track.label} groups that would fit ({fits}) are full or not running, and no "
            f"clinician is free to lead another (groups now meet {meets})",
            f"a clinician free {class_label(options[0])} with {track.group_hours} hours to spare would place them",
        )
    n, c, name, helped = best
    return Explanation(
        p.key,
        f"{words}; {track.label} groups meet {meets} and those that would fit are full or not running",
        f"a {class_label(c)} group with {name} would place {'these ' + str(n) + ' people' if n > 1 else 'them'}",
        helped,
    )


# --- groups below the minimum size ------------------------------------------------------------------------------
# The solver treats the minimum group size as soft (a small group beats leaving people without one), so a plan
# can hold groups too small to run well. These functions say which, and where their members could go instead.


@dataclass(frozen=True)
class GroupFacts:
    key: str
    name: str
    track: str
    track_label: str
    part: int
    days: tuple[int, ...]
    facilitator: str  # a name
    members: tuple[str, ...]
    minimum: int
    capacity: int

    @property
    def blocks(self) -> frozenset[tuple[int, int]]:
        return frozenset((d, self.part) for d in self.days)

    @property
    def when(self) -> str:
        return pattern_label(self.part, self.days)


@dataclass
class MergeOption:
    target: str  # the other group's key
    target_name: str
    same_time: bool
    fits: list[str]  # members who could move there
    misfits: dict[str, str]  # member -> why not
    size_after: int  # the other group's size with those who fit

    @property
    def everyone_fits(self) -> bool:
        return not self.misfits


@dataclass
class SmallGroup:
    group: str
    name: str
    members: tuple[str, ...]
    minimum: int
    reason: str
    fix: str
    options: list[MergeOption] = field(default_factory=list)


def _names(keys: list[str], names: dict[str, str]) -> str:
    shown = [names.get(k, k) for k in keys]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _merge_option(
    group: GroupFacts,
    other: GroupFacts,
    available: dict[str, frozenset[tuple[int, int]]],
    busy: dict[str, frozenset[tuple[int, int]]],
) -> MergeOption:
    same_time = other.part == group.part and other.days == group.days
    fits: list[str] = []
    misfits: dict[str, str] = {}
    room = other.capacity - len(other.members)
    for m in group.members:
        if not same_time:
            not_free = sorted(other.blocks - available.get(m, frozenset()))
            if not_free:
                misfits[m] = "is not free " + ", ".join(block_label(b) for b in not_free)
                continue
            taken = sorted(other.blocks & busy.get(m, frozenset()))
            if taken:
                misfits[m] = "has an individual or family session " + ", ".join(block_label(b) for b in taken)
                continue
        if len(fits) >= room:
            misfits[m] = f"would not fit: {other.name} is full"
            continue
        fits.append(m)
    return MergeOption(other.key, other.name, same_time, fits, misfits, len(other.members) + len(fits))


def small_groups(
    groups: list[GroupFacts],
    *,
    available: dict[str, frozenset[tuple[int, int]]],
    busy: dict[str, frozenset[tuple[int, int]]],
    names: dict[str, str],
) -> list[SmallGroup]:
    """Groups with members but fewer than their minimum, each with the other groups of its track its members could
    join: at the same time, or at another time every one of them is free (`available`) and has no individual or
    family session in (`busy`), while the other group has room."""
    result = []
    for g in sorted(groups, key=lambda x: (x.track_label, x.name, x.key)):
        if not g.members or len(g.members) >= g.minimum:
            continue
        others = [o for o in groups if o.track == g.track and o.key != g.key]
        options = [_merge_option(g, o, available, busy) for o in others]
        options = [o for o in options if o.fits]
        options.sort(key=lambda o: (not o.everyone_fits, not o.same_time, -len(o.fits), o.size_after, o.target_name))
        size = len(g.members)
        meets = "" if g.when in g.name else f", meets {g.when}"
        reason = (
            f"{size} member{'s' if size != 1 else ''}, fewer than the minimum of {g.minimum} "
            f"(led by {g.facilitator}{meets})"
        )
        whole = [o for o in options if o.everyone_fits]
        if whole:
            best = whole[0]
            when = "at the same time" if best.same_time else "and all are free then"
            fix = (
                f"merge it into {best.target_name} ({when}): it would have {best.size_after} of "
                f"{next(o.capacity for o in others if o.key == best.target)}"
            )
        elif options:
            best = options[0]
            reasons = [f"{names.get(m, m)} {w}" for m, w in best.misfits.items()]
            if len(reasons) > 3:
                reasons = [*reasons[:2], f"{len(reasons) - 2} more cannot come then"]
            fix = (
                f"no other group takes all of them: {_names(best.fits, names)} could join {best.target_name}, "
                f"but {'; '.join(reasons)}. Keep the group running small this week, or ask about another time"
            )
        elif others:
            meets = ", ".join(sorted({o.when for o in others}))
            fix = (
                f"no other {g.track_label} group has room at a time they are free (others meet {meets}): keep it "
                "running small this week, or ask the members whether they could come then"
            )
        else:
            fix = (
                f"it is the only {g.track_label} group: keep it running small, or merge it once more people join "
                "the track"
            )
        result.append(SmallGroup(g.key, g.name, g.members, g.minimum, reason, fix, options[:3]))
    return result
