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
