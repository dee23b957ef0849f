"""The weekly schedule as a CP-SAT model (OR-Tools). Pure: no Django.

Variables (see problem.py for the vocabulary):
- x[p, c]  patient p joins class c (a track with one 3-day pattern);
- y[k, c]  clinician k leads one of class c's groups; the class runs sum_k y[k, c] groups (aggregated: no
  variable per interchangeable group copy);
- z[p, k, b] / f[p, k, b]  p's individual / family session with clinician k in block b (the hour inside the
  block is given afterwards, see problem.place_appointments);
- dose[p]  p has a group, an individual session and, when due, a family session.

Objective, in order: patients at full dose (solved first, then held); then, by weight, continuity (same
class and group as last week, a group's facilitator, same individual slot), groups not below the minimum
size, preferences.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from openiop.scheduling import bounds, greedy
from openiop.scheduling.bounds import Bound
from openiop.scheduling.explain import coverable
from openiop.scheduling.problem import (
    BLOCK_HOURS,
    Block,
    ClassKey,
    Instance,
    Solution,
    place_appointments,
    split_class,
)

IN_GROUP_WEIGHT = 5  # partial care beats none for someone who cannot reach the full dose
CONTINUITY_WEIGHT = 40
SLOT_CONTINUITY_WEIGHT = 4
LEADER_CONTINUITY_WEIGHT = 40  # a group keeps last week's facilitator (else its members meet someone new)
PREFERENCE_WEIGHT = 2
GROUP_WEIGHT = 1  # per group run
SHORT_WEIGHT = 2  # per person a group is below its minimum size (soft: a hard minimum is often infeasible)
LIGHT_PRESOLVE_ABOVE = 200  # patients
BOUND_SECONDS = 2.6  # for the relaxations that bound the number at dose, on short limits (see _bound_seconds)
# of the time limit, for the number at full dose (with the bounds and the start); the rest for everything else
FIRST_PHASE_SHARE = 0.7


@dataclass
class Model:
    """The CP-SAT model of one week and its variables (see the module docstring)."""

    m: cp_model.CpModel
    classes: list[ClassKey]
    x: dict[tuple[str, ClassKey], cp_model.IntVar]
    y: dict[tuple[str, ClassKey], cp_model.IntVar]
    z: dict[tuple[str, str, Block], cp_model.IntVar]
    f: dict[tuple[str, str, Block], cp_model.IntVar]
    dose: dict[str, cp_model.IntVar]
    rewards: list[cp_model.LinearExprT]
    penalties: list[cp_model.LinearExprT]


def build(instance: Instance, *, fix_continuing: bool = False, covered: set[str] | None = None) -> Model:
    """Every hard rule as a constraint; no objective yet. `covered`: `explain.coverable(instance)` if known."""
    s = instance.settings
    m = cp_model.CpModel()
    patients = instance.patients
    clinicians = instance.clinicians

    # Only those who could reach the full dose on their own get a dose variable: the count of them bounds the
    # objective from the start (on big programs CP-SAT's own bound stayed above it after finding them all).
    covered = coverable(instance) if covered is None else covered
    x: dict[tuple[str, ClassKey], cp_model.IntVar] = {}
    by_class: dict[ClassKey, list[cp_model.IntVar]] = defaultdict(list)
    for pk, p in patients.items():
        for c in instance.patient_classes(p):
            x[pk, c] = v = m.new_bool_var("")
            by_class[c].append(v)
    classes = sorted(by_class)

    y: dict[tuple[str, ClassKey], cp_model.IntVar] = {}
    led_in_block: dict[tuple[str, Block], list[cp_model.IntVar]] = defaultdict(list)
    hours_of: dict[str, list[cp_model.LinearExprT]] = defaultdict(list)
    groups_of: dict[ClassKey, list[cp_model.IntVar]] = defaultdict(list)
    for c in classes:
        hours = instance.tracks[c[0]].group_hours
        for kk, k in clinicians.items():
            if instance.can_facilitate(k, c):
                y[kk, c] = v = m.new_bool_var("")
                groups_of[c].append(v)
                hours_of[kk].append(hours * v)
                for d in c[2]:
                    led_in_block[kk, (d, c[1])].append(v)

    cap, minimum = s.group_capacity, s.group_minimum
    penalties: list[cp_model.LinearExprT] = []
    for c in classes:
        members = sum(by_class[c])
        n = sum(groups_of[c])
        if not groups_of[c]:
            for v in by_class[c]:
                m.add(v == 0)
            continue
        m.add(members <= cap * n)
        m.add(n <= members)  # no empty groups
        short = m.new_int_var(0, minimum * len(groups_of[c]), "")
        m.add(short >= minimum * n - members)
        penalties.append(SHORT_WEIGHT * short)
        # no more groups than the members need: a spare group costs a clinician 9 hours and splits the members
        penalties.append(GROUP_WEIGHT * n)
        # Sizes within a class are balanced by split_class. A penalty for distance from a target size across
        # classes was measured to cost continuity (57-64% kept against 68-85% without it at 300 patients in
        # the same time), so it is not in the objective.

    fixed_load = instance.fixed_caseload()
    new_load: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    appts_in: dict[tuple[str, Block], list[cp_model.IntVar]] = defaultdict(list)
    z: dict[tuple[str, str, Block], cp_model.IntVar] = {}
    f: dict[tuple[str, str, Block], cp_model.IntVar] = {}
    rewards: list[cp_model.LinearExprT] = []
    for g in instance.previous_groups:
        if (g.facilitator, g.class_key) in y:
            rewards.append(LEADER_CONTINUITY_WEIGHT * y[g.facilitator, g.class_key])
    dose: dict[str, cp_model.IntVar] = {}
    for pk, p in patients.items():
        mine = [(c, x[pk, c]) for c in instance.patient_classes(p) if (pk, c) in x]
        in_class = [v for _, v in mine]
        if in_class:
            m.add_at_most_one(in_class)
        group_in_block: dict[Block, list[cp_model.IntVar]] = defaultdict(list)
        for c, v in mine:
            for d in c[2]:
                group_in_block[d, c[1]].append(v)
        ind_vars: list[cp_model.IntVar] = []
        fam_vars: list[cp_model.IntVar] = []
        per_clinician_ind: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        per_clinician_fam: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for kk in instance.clinician_candidates(p):
            k = clinicians[kk]
            for b in sorted(p.available & k.available):
                zv = z[pk, kk, b] = m.new_bool_var("")
                ind_vars.append(zv)
                per_clinician_ind[kk].append(zv)
                appts_in[kk, b].append(zv)
                if group_in_block.get(b):
                    m.add(zv + sum(group_in_block[b]) <= 1)
                if p.family_due:
                    fv = f[pk, kk, b] = m.new_bool_var("")
                    fam_vars.append(fv)
                    per_clinician_fam[kk].append(fv)
                    appts_in[kk, b].append(fv)
                    if group_in_block.get(b):
                        m.add(fv + sum(group_in_block[b]) <= 1)
        for kk in per_clinician_ind:
            hours_of[kk].append(sum(per_clinician_ind[kk]) + sum(per_clinician_fam[kk]))
            if p.primary is None:
                new_load[kk].extend(per_clinician_ind[kk])
            if per_clinician_fam[kk]:
                # the family session is with the same clinician as the individual one
                m.add(sum(per_clinician_fam[kk]) <= sum(per_clinician_ind[kk]))
        if ind_vars:
            m.add_at_most_one(ind_vars)
        if fam_vars:
            m.add_at_most_one(fam_vars)
        # continuity and preferences count for everyone, also those who cannot reach the dose
        can_reach_dose = bool(in_class and ind_vars and (fam_vars or not p.family_due) and pk in covered)
        if not can_reach_dose:  # partial care beats none
            rewards.append(IN_GROUP_WEIGHT * (sum(in_class) + sum(ind_vars)))
        if p.last_class is not None and (pk, p.last_class) in x:
            rewards.append(CONTINUITY_WEIGHT * x[pk, p.last_class])
            if fix_continuing:
                m.add(x[pk, p.last_class] == 1)
        if p.last_individual is not None and p.primary is not None and (pk, p.primary, p.last_individual) in z:
            rewards.append(SLOT_CONTINUITY_WEIGHT * z[pk, p.primary, p.last_individual])
        if p.preferred_parts:
            rewards.append(PREFERENCE_WEIGHT * sum(v for c, v in mine if c[1] in p.preferred_parts))
        if not can_reach_dose:
            continue
        dv = dose[pk] = m.new_bool_var("")
        m.add(dv <= sum(in_class))
        m.add(dv <= sum(ind_vars))
        if p.family_due:
            m.add(dv <= sum(fam_vars))

    for kk, k in clinicians.items():
        if hours_of[kk]:
            m.add(sum(hours_of[kk]) <= k.max_hours)
        if new_load[kk]:
            m.add(sum(new_load[kk]) <= k.max_caseload - fixed_load[kk])
        for b in k.available:
            led = led_in_block.get((kk, b), [])
            appts = appts_in.get((kk, b), [])
            if len(led) > 1 or (led and appts):
                m.add(BLOCK_HOURS * sum(led) + sum(appts) <= BLOCK_HOURS)
            elif len(appts) > BLOCK_HOURS:
                m.add(sum(appts) <= BLOCK_HOURS)
        # a clinician is never booked outside their availability: no variable exists there

    return Model(m, classes, x, y, z, f, dose, rewards, penalties)


def solve(instance: Instance, *, hint: bool = True, fix_continuing: bool = False) -> Solution:
    started = time.perf_counter()
    s = instance.settings
    patients = instance.patients
    clinicians = instance.clinicians
    covered = coverable(instance)
    model = build(instance, fix_continuing=fix_continuing, covered=covered)
    m, classes, x, y, z, f, dose = model.m, model.classes, model.x, model.y, model.z, model.f, model.dose
    rewards, penalties = model.rewards, model.penalties

    # Lexicographic, in two solves: first the number of patients at full dose alone (much easier for the
    # search than one weighted sum), then everything else with that number held.
    # How many can be at the full dose together, from two small relaxations (bounds.py), is the first solve's
    # cut, and the second relaxation's group leaders are where its search starts.
    joint = bounds.together(instance, time_limit=_bound_seconds(s.time_limit), alone=covered)
    dose_sum = _maximize_at_dose(model, joint)
    start = greedy.solve(instance)
    if hint:
        # Warm start: the better of the relaxation's leaders and last week's plan repaired greedily. Only when
        # the relaxation's own plan places more than greedy (at 3,000 patients it is cut short at ~2,000 of
        # 2,600, greedy ~2,300, and a start from it took 10 s and placed 2,000).
        greedy_at_dose = start.at_dose(instance)
        first = None
        if joint.leaders_at_dose > len(greedy_at_dose):
            seconds = min(s.time_limit - (time.perf_counter() - started), s.time_limit * FIRST_PHASE_SHARE) / 4
            first = _start_from(model, joint.leaders, time_limit=seconds, workers=s.workers)
        if first is not None and first[1] > len(greedy_at_dose):
            for v, value in zip(_every(model), first[0], strict=True):
                m.add_hint(v, value)
        else:
            _hint_from(m, start, x, y, z, f, dose, greedy_at_dose)
    solver = cp_model.CpSolver()
    _tune(solver, len(patients))
    # the time limit covers the whole solve: the bounds, building the model and the starts count too
    solver.parameters.max_time_in_seconds = max(0.2, s.time_limit * FIRST_PHASE_SHARE - (time.perf_counter() - started))
    solver.parameters.num_workers = s.workers
    solver.parameters.relative_gap_limit = s.relative_gap
    solver.parameters.random_seed = s.seed
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # nothing found in time (a loaded machine): fall back on the greedy plan rather than on nothing
        start.solver, start.status = "cp-sat", "GREEDY-FALLBACK"
        start.seconds = time.perf_counter() - started
        return start
    dose_found = sum(solver.value(v) for v in dose.values())
    dose_bound = solver.best_objective_bound
    status_name = "OPTIMAL" if dose_found >= dose_bound - 1e-6 else "FEASIBLE"
    m.clear_hints()  # type: ignore[no-untyped-call]
    for v in _every(model):
        m.add_hint(v, solver.value(v))
    m.add(dose_sum >= dose_found)
    m.maximize(cp_model.LinearExpr.sum(rewards) - cp_model.LinearExpr.sum(penalties))
    second = cp_model.CpSolver()
    _tune(second, len(patients))
    # reading the answer back and making the groups takes time too (0.15 s at 3,000 patients): leave room for it
    finish = 0.05 + len(patients) / 10_000
    second.parameters.max_time_in_seconds = max(0.2, s.time_limit - finish - (time.perf_counter() - started))
    second.parameters.num_workers = s.workers
    second.parameters.random_seed = s.seed
    second.parameters.relative_gap_limit = s.relative_gap
    if second.solve(m) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        solver = second

    counter: dict[ClassKey, int] = {}
    groups = []
    for c in classes:
        leaders = sorted(kk for kk in clinicians if (kk, c) in y and solver.boolean_value(y[kk, c]))
        chosen = [pk for pk in patients if (pk, c) in x and solver.boolean_value(x[pk, c])]
        groups += split_class(c, leaders, chosen, instance, counter)
    requests = []
    primaries = {}
    for (pk, kk, b), v in z.items():
        if solver.boolean_value(v):
            requests.append((pk, kk, "individual", b))
            if patients[pk].primary is None:
                primaries[pk] = kk
    for (pk, kk, b), v in f.items():
        if solver.boolean_value(v):
            requests.append((pk, kk, "family", b))
    return Solution(
        "cp-sat",
        [g for g in groups if g.members],
        place_appointments(requests, instance),
        status=status_name,
        seconds=time.perf_counter() - started,
        objective=dose_found,
        bound=dose_bound,
        primaries=primaries,
    )


def bound_at_dose(
    instance: Instance,
    *,
    time_limit: float,
    workers: int = 8,
    covered: set[str] | None = None,
    joint: Bound | None = None,
) -> Bound:
    """An upper bound on the number at the full dose from the full model itself: CP-SAT's bound after a long
    search for the number at dose alone (with the relaxation's bound as a cut). For the benchmark's
    "coverable": on the synthetic programs at 300 patients it proves the optimum within 60 s on most seeds,
    where the relaxation alone stays a few patients above it. `covered`, `joint`: if the caller has them."""
    covered = coverable(instance) if covered is None else covered
    joint = bounds.together(instance, alone=covered) if joint is None else joint
    model = build(instance, covered=covered)
    _maximize_at_dose(model, joint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.solve(model.m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return joint
    value, proven = bounds.best_bound(solver, status, fallback=joint.together)
    return replace(joint, together=min(joint.together, value), proven=proven, seconds=solver.wall_time)


def _maximize_at_dose(model: Model, joint: Bound) -> cp_model.LinearExprT:
    """The first solve's objective: the number at the full dose, with the relaxation's bound as a valid cut,
    so CP-SAT's bound (and the gap it reports) starts there rather than at everyone who could be placed on
    their own. Returns that number."""
    dose_sum = sum(model.dose.values())
    if joint.together < len(model.dose):
        model.m.add(dose_sum <= joint.together)
    model.m.maximize(dose_sum)
    return dose_sum


def _bound_seconds(limit: float) -> float:
    """Time for the relaxations: 2.6 s at most on short limits (the second proves in 0.6-1.9 s at 300
    patients on 9 of seeds 1-10), a tenth of longer ones (at 3,000 patients it is not proven in 4.5 s, the
    first is in 0.3 s)."""
    return max(limit / 10, min(BOUND_SECONDS, limit / 4))


def _start_from(
    model: Model, leaders: frozenset[tuple[str, ClassKey]], *, time_limit: float, workers: int
) -> tuple[list[int], int] | None:
    """A complete start for the first solve: the most patients at dose with the relaxation's group leaders,
    found by a copy of the first solve's model in 0.2-0.6 s at 300 patients because the leaders are the hard
    part. (Letting it drop some of them, or weighing continuity in, took longer and found 6-17 fewer at dose
    in 0.5 s.) Returns a value for each variable of `_every(model)` and the number at dose, or None."""
    if not leaders:
        return None
    fixed = model.m.clone()  # same variables (by index), the cut and the objective; no hints yet
    for key, v in model.y.items():
        fixed.add(fixed.get_bool_var_from_proto_index(v.index) == (key in leaders))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.num_workers = workers
    if solver.solve(fixed) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [solver.value(v) for v in _every(model)], sum(solver.value(v) for v in model.dose.values())


def _every(model: Model) -> list[cp_model.IntVar]:
    return [*model.x.values(), *model.y.values(), *model.z.values(), *model.f.values(), *model.dose.values()]


def _tune(solver: cp_model.CpSolver, patients: int) -> None:
    """Presolve probing took most of the time limit on big programs (5 s a round at 3,000 patients on a
    loaded machine): keep presolve light there and leave the time to the search."""
    if patients > LIGHT_PRESOLVE_ABOVE:
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.max_presolve_iterations = 1


def _hint_from(
    m: cp_model.CpModel,
    start: Solution,
    x: dict[tuple[str, ClassKey], cp_model.IntVar],
    y: dict[tuple[str, ClassKey], cp_model.IntVar],
    z: dict[tuple[str, str, Block], cp_model.IntVar],
    f: dict[tuple[str, str, Block], cp_model.IntVar],
    dose: dict[str, cp_model.IntVar],
    at_dose: set[str],
) -> None:
    """Warm start: last week's plan, repaired greedily to fit this week (a complete, feasible hint)."""
    ones: set[object] = set()
    for g in start.groups:
        ones.add((g.facilitator, g.class_key))
        ones.update((p, g.class_key) for p in g.members)
    for a in start.appointments:
        ones.add((a.patient, a.clinician, a.block, a.kind))
    for key, v in x.items():
        m.add_hint(v, key in ones)
    for key, v in y.items():
        m.add_hint(v, key in ones)
    for (pk, kk, b), v in z.items():
        m.add_hint(v, (pk, kk, b, "individual") in ones)
    for (pk, kk, b), v in f.items():
        m.add_hint(v, (pk, kk, b, "family") in ones)
    for pk, v in dose.items():
        m.add_hint(v, pk in at_dose)
