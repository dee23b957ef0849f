"""How many patients could reach the full dose *together*: an upper bound for judging a plan. Pure: no Django.

`explain.coverable` checks each patient on their own (a pattern someone could lead, a free hour with a
clinician who may see them). People compete for the same group leaders, though: on the synthetic programs a
handful of patients who can each be placed alone cannot all be placed at once (seed 1 at 300 patients: 262
coverable one by one, 258 at most together, proven by CP-SAT in 120 s on the full model).

`together` solves a relaxation of the weekly model, small enough to prove in seconds:
- patients with the same compatible patterns are one *type* (an integer count per type and pattern);
- clinicians who could lead the same patterns in a part of the day are one *leader type*; each leads at most
  one group per part of the day when patterns take 3 of the 5 days (two such patterns always share a day);
- a class runs whole groups of at most `group_capacity` members.
Individual sessions, hours and caseloads are left out: every plan the solver can return is also a solution of
the relaxation, so its optimum (or, if not proven in time, its bound) is an upper bound on the number of
patients at the full dose. Only patients who are coverable on their own are counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from openiop.scheduling.explain import coverable
from openiop.scheduling.problem import ClassKey, Instance


@dataclass(frozen=True)
class Bound:
    coverable_alone: int  # each patient on their own
    together: int  # an upper bound on how many can be at the full dose at once
    proven: bool  # the relaxation was solved to optimality (else `together` is its best bound)
    seconds: float


def together(instance: Instance, *, time_limit: float = 20.0, workers: int = 8, alone: set[str] | None = None) -> Bound:
    """`alone`: `explain.coverable(instance)` when the caller has it already."""
    alone = coverable(instance) if alone is None else alone
    leaders_of: dict[ClassKey, list[str]] = {}
    types: Counter[tuple[ClassKey, ...]] = Counter()
    for key in alone:
        options = []
        for c in instance.patient_classes(instance.patients[key]):
            if c not in leaders_of:
                leaders_of[c] = [k for k, spec in instance.clinicians.items() if instance.can_facilitate(spec, c)]
            if leaders_of[c]:
                options.append(c)
        types[tuple(sorted(options))] += 1
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
    value, proven = best_bound(solver, solver.solve(m), fallback=len(alone))
    return Bound(len(alone), min(len(alone), value), proven, solver.wall_time)


def best_bound(solver: cp_model.CpSolver, status: cp_model.CpSolverStatus, *, fallback: int) -> tuple[int, bool]:
    """(an upper bound, proven optimal) from a maximization CP-SAT has solved: its optimum, else its best
    bound, else `fallback` when it found nothing in time."""
    if status == cp_model.OPTIMAL:
        return round(solver.objective_value), True
    if status == cp_model.FEASIBLE:
        return int(solver.best_objective_bound + 1e-6), False
    return fallback, False
