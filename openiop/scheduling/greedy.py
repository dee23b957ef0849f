"""A greedy baseline for the weekly schedule, for comparison with the CP-SAT model. Pure: no Django.

Most constrained patient first; each joins last week's class if it still fits, else the fullest open group
they can attend, else opens a group with a free clinician; then takes the first free hour with their clinician.
"""

from __future__ import annotations

import time
from collections import defaultdict

from openiop.scheduling.problem import (
    BLOCK_HOURS,
    Block,
    ClassKey,
    Instance,
    Solution,
    place_appointments,
    split_class,
)


def solve(instance: Instance) -> Solution:
    started = time.perf_counter()
    s = instance.settings
    clinicians = instance.clinicians
    # clinician state: hours used, per block: "group" or a count of one-hour sessions
    hours = dict.fromkeys(clinicians, 0)
    leading: dict[tuple[str, Block], bool] = {}
    appts: dict[tuple[str, Block], int] = defaultdict(int)
    caseload = instance.fixed_caseload()
    open_groups: dict[ClassKey, list[tuple[str, list[str]]]] = defaultdict(list)  # facilitator, members

    def free_block(k: str, b: Block) -> bool:
        return b in clinicians[k].available and not leading.get((k, b)) and appts[k, b] < BLOCK_HOURS

    def can_open(k: str, c: ClassKey) -> bool:
        track = instance.tracks[c[0]]
        return (
            instance.can_facilitate(clinicians[k], c)
            and hours[k] + track.group_hours <= clinicians[k].max_hours
            and all(not leading.get((k, (d, c[1]))) and appts[k, (d, c[1])] == 0 for d in c[2])
        )

    order = sorted(
        instance.patients.values(), key=lambda p: (p.last_class is None, len(instance.patient_classes(p)), p.key)
    )
    requests: list[tuple[str, str, str, Block]] = []
    primaries: dict[str, str] = {}
    for p in order:
        options = instance.patient_classes(p)
        if p.last_class in options:
            options.remove(p.last_class)
            options.insert(0, p.last_class)
        chosen: ClassKey | None = None
        for c in options:
            room = [g for g in open_groups[c] if len(g[1]) < s.group_capacity]
            if room:
                max(room, key=lambda g: len(g[1]))[1].append(p.key)
                chosen = c
                break
        if chosen is None:
            for c in options:
                leader = next((k for k in sorted(clinicians) if can_open(k, c)), None)
                if leader is not None:
                    open_groups[c].append((leader, [p.key]))
                    hours[leader] += instance.tracks[c[0]].group_hours
                    for d in c[2]:
                        leading[leader, (d, c[1])] = True
                    chosen = c
                    break
        busy = {(d, chosen[1]) for d in chosen[2]} if chosen else set()
        needed = 2 if p.family_due else 1
        for k in instance.clinician_candidates(p):
            if p.primary is None and caseload[k] >= clinicians[k].max_caseload:
                continue
            if hours[k] + needed > clinicians[k].max_hours:
                continue
            blocks = [b for b in sorted(p.available - busy) if free_block(k, b)]
            if p.last_individual in blocks:
                blocks.insert(0, p.last_individual)
            if not blocks:
                continue
            first = blocks[0]
            requests.append((p.key, k, "individual", first))
            appts[k, first] += 1
            hours[k] += 1
            if p.family_due:
                fam = next((b for b in blocks if free_block(k, b)), None)
                if fam is not None:
                    requests.append((p.key, k, "family", fam))
                    appts[k, fam] += 1
                    hours[k] += 1
            if p.primary is None:
                primaries[p.key] = k
                caseload[k] += 1
            break

    counter: dict[ClassKey, int] = {}
    groups = []
    for c, gs in sorted(open_groups.items()):
        groups += split_class(c, [g[0] for g in gs], [m for g in gs for m in g[1]], instance, counter)
    return Solution(
        "greedy",
        [g for g in groups if g.members],
        place_appointments(requests, instance),
        status="heuristic",
        seconds=time.perf_counter() - started,
        primaries=primaries,
    )
