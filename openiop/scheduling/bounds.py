"""How many patients could reach the full dose *together*: an upper bound for judging a plan. Pure: no Django.

`explain.coverable` checks each patient on their own (a pattern someone could lead, a free hour with a
clinician who may see them). People compete for the same group leaders, though: on the synthetic programs a
handful of patients who can each be placed alone cannot all be placed at once (seed 1 at 300 patients: 262
coverable one by one, 258 at most together, proven by CP-SAT in 120 s on the full model).

`together` solves two relaxations of the weekly model, each small enough to prove in seconds, and keeps the
smaller bound. Every plan the solver can return is also a solution of both, so the optimum of either
(or, if not proven in time, its bound) is an upper bound on the number of patients at the full dose. Only
patients who are coverable on their own are counted. Both keep that
- patients with the same compatible patterns are one *type* (an integer count per type and pattern);
- a class runs whole groups of at most `group_capacity` members.

1. *Leaders by type* (0.1-0.4 s at 300 patients, 0.3 s at 3,000): clinicians who could lead the same patterns
   in a part of the day are one *leader type*; each leads at most one group per part of the day when patterns
   take 3 of the 5 days (two such patterns always share a day). Individual sessions, hours and caseloads are
   left out.
2. *Leaders and hours* (0.8-2.2 s at 300 patients): each clinician is one, with their hours: the groups
   they lead plus an hour for each of their patients at the full dose (two when a family session is due) stay
   within their weekly hours, and those sessions fit in the blocks they do not spend leading. A newcomer takes
   the hour from one clinician who may still take them on. A patient is not put in a pattern that covers every
   free block they share with their clinician, and one who shares few blocks with them chooses their own
   pattern, with a shared block outside it where their clinician does not lead. Which hour each session takes
   is left out. Clinicians' hours are what binds at 300 patients: on the synthetic programs this bound is the
   proven optimum on seeds 1-5 and one above it on seed 9, the other seed whose optimum is known (the first
   relaxation was up to eight above). Its group leaders are where the solver starts its search (solver.py).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from openiop.scheduling.explain import coverable
from openiop.scheduling.problem import BLOCK_HOURS, Block, ClassKey, Instance

# In the second relaxation, a patient who shares at most this many free blocks with their clinician chooses
# their own pattern (the others are counted by type): whether their session fits depends on which days their
# group meets and where their clinician leads. Measured on seeds 1-10 at 300 patients (the number at dose
# alone): 5 gave the same bounds as everyone choosing, in 0.8-2.2 s against 1-2.3 s; 0 (nobody) took
# 0.2-1 s but was one or two above on seeds 3, 5, 8 and 9.
OWN_PATTERN_UP_TO = 5


@dataclass(frozen=True)
class Bound:
    coverable_alone: int  # each patient on their own
    together: int  # an upper bound on how many can be at the full dose at once
    proven: bool  # `together` is the optimum of a relaxation (else the best bound found in time)
    seconds: float
    # who leads which class in the second relaxation's best solution: a start for the solver (empty if none),
    # and how many that solution has at the full dose
    leaders: frozenset[tuple[str, ClassKey]] = field(default_factory=frozenset)
    leaders_at_dose: int = 0


def together(
    instance: Instance, *, time_limit: float = 20.0, alone: set[str] | None = None, leaders: bool = True
) -> Bound:
    """The second relaxation within three quarters of `time_limit` seconds; when it is not proven, the first
    one too (its optimum is never below the second's). `alone`: `explain.coverable(instance)` when the caller
    has it already. `leaders`: choose the group leaders with care, for the solver to start from (slower)."""
    started = time.perf_counter()
    alone = coverable(instance) if alone is None else alone
    value, proven, chosen, placed = with_hours(instance, alone, time_limit=time_limit * 3 / 4, leaders=leaders)
    if not proven:
        rest = max(time_limit / 4, time_limit - (time.perf_counter() - started))
        first, first_proven = by_leader_type(instance, alone, time_limit=rest)
        if first <= value:
            value, proven = first, first_proven
    return Bound(len(alone), min(value, len(alone)), proven, time.perf_counter() - started, chosen, placed)


def by_leader_type(instance: Instance, alone: set[str], *, time_limit: float, workers: int = 8) -> tuple[int, bool]:
    """The first relaxation: (a bound, proven). 8 workers even on 2 cores: measured 0.1-0.35 s to prove it at
    300 patients, against up to 3.7 s with 2."""
    options, _ = _led_classes(instance, alone)
    types = Counter(tuple(sorted(classes)) for classes in options.values())
    classes = sorted({c for t in types for c in t})
    leader_types: Counter[tuple[ClassKey, ...]] = Counter()
    for spec in instance.clinicians.values():
        for part in sorted({c[1] for c in classes}):
            can = tuple(c for c in classes if c[1] == part and instance.can_facilitate(spec, c))
            if can:
                leader_types[can] += 1

    m = cp_model.CpModel()
    members: dict[ClassKey, list[cp_model.IntVar]] = defaultdict(list)
    placed = []
    for t, count in types.items():
        chosen = []
        for c in t:
            v = m.new_int_var(0, count, "")
            members[c].append(v)
            chosen.append(v)
        if chosen:
            m.add(sum(chosen) <= count)
            placed += chosen
    runs: dict[ClassKey, list[cp_model.IntVar]] = defaultdict(list)
    for lt, count in leader_types.items():
        led = []
        for c in lt:
            v = m.new_int_var(0, count, "")
            runs[c].append(v)
            led.append(v)
        # a clinician is in one group per block: at most 5 // (days of the shortest pattern) groups a part
        m.add(sum(led) <= count * (5 // min(len(c[2]) for c in lt)))
    cap = instance.settings.group_capacity
    for c in classes:
        m.add(sum(members[c]) <= cap * sum(runs[c]))
    m.maximize(sum(placed))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    # nothing found in time: fall back on the one-by-one count
    return best_bound(solver, solver.solve(m), fallback=len(alone))


def with_hours(
    instance: Instance, alone: set[str], *, time_limit: float, leaders: bool = True
) -> tuple[int, bool, frozenset[tuple[str, ClassKey]], int]:
    """The second relaxation: (a bound, proven, the group leaders of its best solution, how many that solution
    has at the full dose). Without `leaders`, only the number at dose counts (a faster proof; the leaders
    are then any that reach it)."""
    patients, clinicians = instance.patients, instance.clinicians
    m = cp_model.CpModel()
    led, leaders_of = _led_classes(instance, alone)
    types: dict[tuple[ClassKey, ...], list[str]] = defaultdict(list)
    own: dict[str, list[ClassKey]] = {}  # patients who choose their own pattern
    for key in sorted(alone):
        p = patients[key]
        shared = p.available & clinicians[p.primary].available if p.primary in clinicians else None
        # the individual session needs a block shared with the clinician outside the group's
        options = [c for c in led[key] if shared is None or shared - _blocks(c)]
        if options and shared is not None and len(shared) <= OWN_PATTERN_UP_TO:
            own[key] = options
        elif options:
            types[tuple(options)].append(key)

    members: dict[ClassKey, list[cp_model.IntVar]] = defaultdict(list)
    dose: dict[str, cp_model.IntVar] = {}
    joins: dict[str, list[tuple[ClassKey, cp_model.IntVar]]] = {}
    for key, options in own.items():
        joins[key] = [(c, m.new_bool_var("")) for c in options]
        for c, v in joins[key]:
            members[c].append(v)
        dose[key] = m.new_bool_var("")
        m.add(sum(v for _, v in joins[key]) == dose[key])
    for t, keys in types.items():
        counts = []
        for c in t:
            members[c].append(v := m.new_int_var(0, len(keys), ""))
            counts.append(v)
        for key in keys:
            dose[key] = m.new_bool_var("")
        m.add(sum(counts) == sum(dose[key] for key in keys))

    y: dict[tuple[str, ClassKey], cp_model.IntVar] = {}
    hours: dict[str, list[cp_model.LinearExprT]] = defaultdict(list)
    sessions: dict[str, list[cp_model.LinearExprT]] = defaultdict(list)
    blocks_led: dict[str, list[cp_model.LinearExprT]] = defaultdict(list)
    led_in: dict[tuple[str, Block], list[cp_model.IntVar]] = defaultdict(list)
    in_part: dict[tuple[str, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    cap = instance.settings.group_capacity
    for c in sorted(members):
        runs = []
        for k in leaders_of[c]:
            y[k, c] = v = m.new_bool_var("")
            runs.append(v)
            hours[k].append(instance.tracks[c[0]].group_hours * v)
            blocks_led[k].append(len(c[2]) * v)
            in_part[k, c[1]].append((len(c[2]), v))
            for b in _blocks(c):
                led_in[k, b].append(v)
        m.add(sum(members[c]) <= cap * sum(runs))
        m.add(sum(runs) <= sum(members[c]))  # no empty groups
    for in_block in led_in.values():
        if len(in_block) > 1:
            m.add_at_most_one(in_block)
    for patterns in in_part.values():
        most = 5 // min(days for days, _ in patterns)  # two patterns of 3 of the 5 days always share a day
        if len(patterns) > most:
            m.add(sum(v for _, v in patterns) <= most)
    for key, chosen in joins.items():
        primary = patients[key].primary
        assert primary is not None  # only patients with a clinician choose their own pattern
        shared = patients[key].available & clinicians[primary].available
        for c, v in chosen:
            # in pattern c, the session is in a shared block outside it where the clinician does not lead
            m.add(v <= sum(1 - sum(led_in.get((primary, b), [])) for b in shared - _blocks(c)))

    newcomers: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for key, v in dose.items():
        p = patients[key]
        need = 2 if p.family_due else 1  # hours with their clinician
        if p.primary in clinicians:
            hours[p.primary].append(need * v)
            sessions[p.primary].append(need * v)
            continue
        takes = []
        for k in instance.clinician_candidates(p):
            takes.append(u := m.new_bool_var(""))
            hours[k].append(need * u)
            sessions[k].append(need * u)
            newcomers[k].append(u)
        m.add(sum(takes) >= v)
    load = instance.fixed_caseload()
    for k, spec in clinicians.items():
        if hours[k]:
            m.add(sum(hours[k]) <= spec.max_hours)
        if newcomers[k]:
            m.add(sum(newcomers[k]) <= spec.max_caseload - load[k])
        if sessions[k]:
            # a block they lead a group in is full; the others have three hours each
            m.add(sum(sessions[k]) <= BLOCK_HOURS * (len(spec.available) - sum(blocks_led[k])))

    # Among the plans with most at dose, prefer last week's leaders of last week's classes, then fewer groups
    # (the solver starts from these leaders; continuity is its next aim, and a spare group costs a leader's
    # hours). Every term after the first is below `weight`. One weighted solve: the same preference as a
    # second solve kept 3-9 of last week's leaders in 0.5 s, against 15-26 this way (seeds 1-10, 300 patients).
    kept = [y[g.facilitator, g.class_key] for g in instance.previous_groups if (g.facilitator, g.class_key) in y]
    weight = 2 * len(kept) + len(y) + 1 if leaders else 1
    preference = 2 * sum(kept) + sum(1 - v for v in y.values()) if leaders else 0
    m.maximize(weight * sum(dose.values()) + preference)
    solver = _lp_heavy(time_limit)
    status = solver.solve(m)
    value, proven = best_bound(solver, status, fallback=(len(alone) + 1) * weight - 1)
    value //= weight
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return value, proven, frozenset(), 0
    leading = frozenset(key for key, v in y.items() if solver.value(v))
    return value, proven, leading, sum(solver.value(v) for v in dose.values())


def _lp_heavy(time_limit: float) -> cp_model.CpSolver:
    """Measured at 300 patients: two LP-heavy workers (one with symmetry) prove the second relaxation in
    0.8-1.9 s on seeds 1-10 but seed 3 (not in 5 s; 1.2-2.2 s for the number at dose alone), where the
    default 2 workers took up to 2.7 s and 8 workers up to 5 for the number at dose alone."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    solver.parameters.subsolvers.extend(["max_lp_sym", "max_lp"])
    return solver


def _led_classes(instance: Instance, alone: set[str]) -> tuple[dict[str, list[ClassKey]], dict[ClassKey, list[str]]]:
    """For each patient, the classes they fit that some clinician could lead; and those clinicians."""
    leaders_of: dict[ClassKey, list[str]] = {}
    options: dict[str, list[ClassKey]] = {}
    for key in alone:
        options[key] = []
        for c in instance.patient_classes(instance.patients[key]):
            if c not in leaders_of:
                leaders_of[c] = [k for k, spec in instance.clinicians.items() if instance.can_facilitate(spec, c)]
            if leaders_of[c]:
                options[key].append(c)
    return options, leaders_of


def _blocks(c: ClassKey) -> set[Block]:
    return {(d, c[1]) for d in c[2]}


def best_bound(solver: cp_model.CpSolver, status: cp_model.CpSolverStatus, *, fallback: int) -> tuple[int, bool]:
    """(an upper bound, proven optimal) from a maximization CP-SAT has solved: its optimum, else its best
    bound, else `fallback` when it found nothing in time."""
    if status == cp_model.OPTIMAL:
        return round(solver.objective_value), True
    if status == cp_model.FEASIBLE:
        return int(solver.best_objective_bound + 1e-6), False
    return fallback, False
