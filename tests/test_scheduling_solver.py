"""The weekly solver, the greedy baseline and the explanations, checked by an independent checker."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.scheduling import bounds, greedy, solver
from openiop.scheduling.check import check
from openiop.scheduling.explain import coverable, explain
from openiop.scheduling.problem import (
    Appointment,
    ClinicianSpec,
    GroupPlan,
    Instance,
    PatientSpec,
    PreviousGroup,
    Settings,
    Solution,
    TrackSpec,
)

FAST = Settings(time_limit=2.0, workers=2, group_capacity=6, group_minimum=2, group_target=4)
# the hand-built programs solve to optimality in well under a second; the limit is slack for a loaded machine
STEADY = replace(FAST, time_limit=15.0)
TRACKS = {
    "su-eve": TrackSpec("su-eve", "Adult substance use, evenings", False, "substance-use", (2,)),
    "mh-day": TrackSpec("mh-day", "Adult mental health, days", False, "mental-health", (0, 1)),
    "teen": TrackSpec("teen", "Adolescents, afternoons", True, "mental-health", (1,), hours_per_day=2),
}
ALL_BLOCKS = [(d, p) for d in range(5) for p in range(3)]


@st.composite
def programs(draw: st.DrawFn) -> Instance:
    blocks = st.frozensets(st.sampled_from(ALL_BLOCKS), min_size=3, max_size=15)
    clinicians = {}
    for i in range(draw(st.integers(1, 4))):
        clinicians[f"k{i}"] = ClinicianSpec(
            f"k{i}",
            f"Clinician {i}",
            draw(blocks),
            max_hours=draw(st.integers(6, 30)),
            max_caseload=draw(st.integers(1, 8)),
            sees_adolescents=draw(st.booleans()),
        )
    patients = {}
    for i in range(draw(st.integers(1, 14))):
        track = draw(st.sampled_from(sorted(TRACKS)))
        primary = draw(st.sampled_from([None, *sorted(clinicians)]))
        patients[f"p{i}"] = PatientSpec(
            f"p{i}",
            track,
            draw(blocks),
            required_hours=6 if TRACKS[track].adolescent else 9,
            primary=primary,
            family_due=draw(st.booleans()),
            preferred_parts=draw(st.frozensets(st.sampled_from((0, 1, 2)), max_size=1)),
        )
    return Instance(dict(TRACKS), clinicians, patients, FAST)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_every_hard_rule_holds_for_cp_sat_and_greedy(instance: Instance) -> None:
    covered = coverable(instance)
    best = solver.solve(instance)
    base = greedy.solve(instance)
    for plan in (best, base):
        assert check(instance, plan) == []
        assert plan.at_dose(instance) <= covered  # the bound really bounds
    assert len(best.at_dose(instance)) >= len(base.at_dose(instance))
    together = bounds.together(instance, time_limit=5.0)
    assert len(best.at_dose(instance)) <= together.together <= together.coverable_alone == len(covered)
    # CP-SAT's own bound bounds, and starts at the relaxation's (a cut in the model)
    assert best.bound is not None and len(best.at_dose(instance)) <= best.bound <= together.together
    # everyone not at dose has an explanation, and nobody at dose gets one
    explained = {e.patient for e in explain(instance, best)}
    assert explained == set(instance.patients) - best.at_dose(instance)


def test_the_checker_catches_broken_plans() -> None:
    k = ClinicianSpec("k", "Kim", frozenset({(0, 2), (2, 2), (4, 2), (1, 2)}), sees_adolescents=False)
    teen = PatientSpec("t", "teen", frozenset(ALL_BLOCKS), required_hours=6)
    adult = PatientSpec("a", "su-eve", frozenset({(0, 2), (2, 2), (4, 2)}), primary="k")
    instance = Instance(dict(TRACKS), {"k": k}, {"t": teen, "a": adult}, FAST)
    group = GroupPlan("g", ("su-eve", 2, (0, 2, 4)), "k", ["a", "t"])
    clash = Appointment("a", "k", "individual", 0, 18)  # during the group, outside nothing but a double-booking
    problems = check(instance, Solution("x", [group], [clash]))
    assert any("mixes adolescents and adults" in p for p in problems)
    assert any("double-booked" in p for p in problems)
    too_big = GroupPlan("g", ("su-eve", 2, (0, 2, 4)), "k", [f"p{i}" for i in range(7)])
    assert any("more than 6" in p for p in check(instance, Solution("x", [too_big], [])))


def _evening_program() -> Instance:
    """Mon/Wed/Fri evening groups with Kim; Lee is free for individual sessions in the mornings."""
    mwf = frozenset({(0, 2), (2, 2), (4, 2)})
    mornings = frozenset((d, 0) for d in range(5))
    kim = ClinicianSpec("kim", "Kim Ray", mwf, max_hours=20, max_caseload=20)
    lee = ClinicianSpec("lee", "Lee Chan", mornings | frozenset({(1, 2), (3, 2)}), max_hours=30, max_caseload=20)
    patients = {
        f"p{i}": PatientSpec(f"p{i}", "su-eve", mwf | mornings, primary="lee", last_class=None) for i in range(5)
    }
    patients["tt"] = PatientSpec("tt", "su-eve", frozenset({(1, 2), (3, 2), (1, 0)}), primary="lee")
    return Instance(dict(TRACKS), {"kim": kim, "lee": lee}, patients, STEADY)


def test_an_unplaceable_patient_gets_an_actionable_explanation() -> None:
    instance = _evening_program()
    plan = solver.solve(instance)
    assert plan.at_dose(instance) == {f"p{i}" for i in range(5)}
    (why,) = explain(instance, plan)
    assert why.patient == "tt"
    assert "available only Tue/Thu evenings" in why.reason
    assert "Mon/Wed/Fri evenings" in why.reason  # where the groups actually meet
    assert "one more evening" in why.fix
    assert "tt" not in coverable(instance)


def test_a_full_class_with_no_free_leader_names_who_would_fix_it() -> None:
    instance = _evening_program()
    patients = dict(instance.patients)
    del patients["tt"]
    for i in range(5, 8):  # 8 people, groups of at most 6, Kim can lead one group only
        patients[f"p{i}"] = replace(patients["p0"], key=f"p{i}")
    extra = ClinicianSpec("ann", "Ann Bell", frozenset({(0, 2), (2, 2), (4, 2), (1, 0)}), max_hours=2)
    instance = Instance(instance.tracks, {**instance.clinicians, "ann": extra}, patients, instance.settings)
    plan = solver.solve(instance)
    assert check(instance, plan) == []
    assert len(plan.at_dose(instance)) == 6
    notes = explain(instance, plan)
    assert len(notes) == 2
    for note in notes:
        assert "would fit are full" in note.reason or "no clinician is free" in note.reason
        assert "Mon/Wed/Fri evenings" in note.fix or "Mon/Wed/Fri evenings" in note.reason


def _continuing(instance: Instance, plan: Solution) -> Instance:
    """Next week's problem: last week's groups and individual slots become history."""
    groups = plan.group_of()
    slots = {a.patient: a.block for a in plan.appointments if a.kind == "individual"}
    patients = {
        k: replace(
            p,
            last_class=groups[k].class_key if k in groups else None,
            last_group=groups[k].key if k in groups else None,
            last_individual=slots.get(k),
        )
        for k, p in instance.patients.items()
    }
    previous = tuple(PreviousGroup(g.key, g.class_key, g.facilitator) for g in plan.groups)
    return Instance(instance.tracks, instance.clinicians, patients, instance.settings, previous)


def _two_class_program() -> Instance:
    evenings = frozenset((d, 2) for d in range(5))
    mornings = frozenset((d, 0) for d in range(5))
    kim = ClinicianSpec("kim", "Kim", evenings, max_hours=20)
    lee = ClinicianSpec("lee", "Lee", evenings, max_hours=20)
    ida = ClinicianSpec("ida", "Ida", mornings, max_hours=30, max_caseload=30)
    patients = {f"p{i}": PatientSpec(f"p{i}", "su-eve", evenings | mornings, primary="ida") for i in range(9)}
    return Instance(dict(TRACKS), {"kim": kim, "lee": lee, "ida": ida}, patients, STEADY)


def test_a_newcomer_moves_nobody_else() -> None:
    first_week = _two_class_program()
    first = solver.solve(first_week)
    assert check(first_week, first) == []
    assert len(first.at_dose(first_week)) == 9
    second_week = _continuing(first_week, first)
    newcomer = PatientSpec("new", "su-eve", frozenset((d, p) for d in range(5) for p in (0, 2)))
    second_week.patients["new"] = newcomer
    second = solver.solve(second_week)
    assert check(second_week, second) == []
    assert second.at_dose(second_week) == set(second_week.patients)
    before, after = first.group_of(), second.group_of()
    assert {k: before[k].key for k in before} == {k: after[k].key for k in before}
    slots_before = {a.patient: (a.day, a.hour) for a in first.appointments}
    slots_after = {a.patient: (a.day, a.hour) for a in second.appointments}
    moved = [k for k in slots_before if slots_before[k][0] != slots_after[k][0]]
    assert moved == []
    assert second.primaries["new"] in {"kim", "lee", "ida"}


def test_changed_availability_moves_only_that_person() -> None:
    # Kim can lead only Mon/Wed/Fri evenings and Lee only Tue/Thu/Fri: whichever group p0 leaves, the other
    # has room for them (six people, groups of up to six), so nobody else needs to move.
    evenings = frozenset((d, 2) for d in range(5))
    mornings = frozenset((d, 0) for d in range(5))
    kim = ClinicianSpec("kim", "Kim", frozenset({(0, 2), (2, 2), (4, 2)}), max_hours=20)
    lee = ClinicianSpec("lee", "Lee", frozenset({(1, 2), (3, 2), (4, 2)}), max_hours=20)
    ida = ClinicianSpec("ida", "Ida", mornings, max_hours=30, max_caseload=30)
    patients = {f"p{i}": PatientSpec(f"p{i}", "su-eve", evenings | mornings, primary="ida") for i in range(6)}
    first_week = Instance(dict(TRACKS), {"kim": kim, "lee": lee, "ida": ida}, patients, STEADY)
    first = solver.solve(first_week)
    second_week = _continuing(first_week, first)
    mover = "p0"
    old_days = first.group_of()[mover].class_key[2]
    lost = old_days[0]
    p = second_week.patients[mover]
    second_week.patients[mover] = replace(p, available=p.available - {(lost, 2)})
    second = solver.solve(second_week)
    assert check(second_week, second) == []
    before, after = first.group_of(), second.group_of()
    assert after[mover].class_key != before[mover].class_key
    assert all(after[k].key == before[k].key for k in before if k != mover)


def test_an_unchanged_week_keeps_each_groups_facilitator() -> None:
    """Kim and Lee could both lead the evening group; last week Lee did. Re-solving the same week (any
    solver seed) keeps Lee, so the members do not meet someone new and the sessions stay as published."""
    evenings = frozenset((d, 2) for d in range(5))
    both = {k: ClinicianSpec(k, k.title(), evenings, max_hours=20) for k in ("kim", "lee")}
    ida = ClinicianSpec("ida", "Ida", frozenset((d, 0) for d in range(5)), max_hours=30, max_caseload=30)
    patients = {
        f"p{i}": PatientSpec(f"p{i}", "su-eve", evenings | frozenset((d, 0) for d in range(5)), primary="ida")
        for i in range(4)
    }
    first_week = Instance(dict(TRACKS), {**both, "ida": ida}, patients, STEADY)
    (group,) = solver.solve(first_week).groups
    last = replace(group, facilitator="lee")  # whoever the solver chose, say it was Lee
    for seed in range(6):
        second_week = _continuing(first_week, Solution("cp-sat", [last], []))
        second_week.settings = replace(STEADY, seed=seed)
        (kept,) = solver.solve(second_week).groups
        assert (kept.key, kept.facilitator, kept.class_key) == (last.key, "lee", last.class_key)


def test_greedy_falls_behind_on_a_crowded_program() -> None:
    from openiop.scheduling import synthetic

    instance = synthetic.program(120, seed=3, settings=Settings(time_limit=4.0))
    best, base = solver.solve(instance), greedy.solve(instance)
    assert check(instance, best) == [] and check(instance, base) == []
    assert len(best.at_dose(instance)) >= len(base.at_dose(instance))


def test_the_bound_together_counts_leaders_that_two_patterns_would_share() -> None:
    """Two people who can each be placed alone, on different evening patterns, with one clinician who can
    lead evenings: each is coverable on their own, but at most one can be at the full dose."""
    evenings = frozenset((d, 2) for d in range(5))
    kim = ClinicianSpec("kim", "Kim Ray", evenings | frozenset((d, 0) for d in range(5)), max_hours=30)
    ana = PatientSpec("ana", "su-eve", frozenset({(0, 2), (1, 2), (2, 2), (0, 0)}), primary="kim")
    ben = PatientSpec("ben", "su-eve", frozenset({(2, 2), (3, 2), (4, 2), (4, 0)}), primary="kim")
    instance = Instance(dict(TRACKS), {"kim": kim}, {"ana": ana, "ben": ben}, STEADY)
    assert coverable(instance) == {"ana", "ben"}
    bound = bounds.together(instance)
    assert (bound.coverable_alone, bound.together, bound.proven) == (2, 1, True)
    plan = solver.solve(instance)
    assert len(plan.at_dose(instance)) == 1 and check(instance, plan) == []
    # the solver knows it too: its bound is 1, not 2, so it reports the plan as optimal with no gap
    assert (plan.objective, plan.bound, plan.status) == (1, 1, "OPTIMAL")
    assert solver.bound_at_dose(instance, time_limit=5.0).together == 1


def test_the_bound_together_counts_whole_groups() -> None:
    instance = _evening_program()
    patients = {k: v for k, v in instance.patients.items() if k != "tt"}
    for i in range(5, 8):  # 8 people for groups of at most 6, and one clinician free to lead
        patients[f"p{i}"] = replace(patients["p0"], key=f"p{i}")
    instance = Instance(instance.tracks, instance.clinicians, patients, instance.settings)
    bound = bounds.together(instance)
    assert (bound.coverable_alone, bound.together, bound.proven) == (8, 6, True)
    plan = solver.solve(instance)
    assert len(plan.at_dose(instance)) == 6 and (plan.bound, plan.status) == (6, "OPTIMAL")


def test_cp_sat_reports_the_relaxations_bound_when_its_own_search_cannot_reach_it() -> None:
    """On a crowded program, CP-SAT's own bound stays at everyone who could be placed on their own (44 here,
    measured without the cut); the relaxation proves at most 35 together, and the plan's bound says so."""
    from openiop.scheduling import synthetic

    instance = synthetic.program(60, seed=7, settings=Settings(time_limit=4.0))
    joint = bounds.together(instance)
    assert joint.proven and joint.together < joint.coverable_alone
    plan = solver.solve(instance)
    assert plan.bound is not None and plan.objective is not None
    assert plan.objective <= plan.bound <= joint.together


def test_the_bound_together_sees_clinician_hours() -> None:
    """Kim, the only clinician, has 10 hours a week: leading the evening group takes 9 and leaves one hour for
    one individual session. Counting groups and leaders alone, all three could be at the full dose; with
    Kim's hours, one, proven by the relaxation and by the full model's own bound."""
    evenings = frozenset((d, 2) for d in range(5))
    mornings = frozenset((d, 0) for d in range(5))
    kim = ClinicianSpec("kim", "Kim Ray", evenings | mornings, max_hours=10)
    people = {
        key: PatientSpec(key, "su-eve", evenings | mornings, primary="kim", family_due=key == "ben")
        for key in ("ana", "ben", "cy")
    }
    instance = Instance(dict(TRACKS), {"kim": kim}, people, STEADY)
    assert bounds.by_leader_type(instance, coverable(instance), time_limit=5.0) == (3, True)
    together = bounds.together(instance)
    assert (together.together, together.proven, together.coverable_alone) == (1, True, 3)
    proof = solver.bound_at_dose(instance, time_limit=5.0)
    assert (proof.together, proof.proven) == (1, True)
    plan = solver.solve(instance)
    assert len(plan.at_dose(instance)) == 1 and check(instance, plan) == []
    assert (plan.bound, plan.status) == (1, "OPTIMAL")


def test_the_bound_together_sees_a_session_that_only_fits_where_the_clinician_leads() -> None:
    """Kim is the only clinician who can lead. Ana's group can only be Mon/Tue/Wed evenings, so her session
    with Kim must be on Thursday morning; Bo's group can only be Tue/Wed/Thu mornings, which Kim would lead.
    Each can be placed alone, and Kim has the hours for both groups, but not both people at once."""
    evenings = frozenset((d, 2) for d in range(5))
    kim = ClinicianSpec("kim", "Kim Ray", evenings | {(1, 0), (2, 0), (3, 0)}, max_hours=40)
    lee = ClinicianSpec("lee", "Lee Park", frozenset({(0, 0), (4, 0)}), max_hours=40)
    ana = PatientSpec("ana", "su-eve", frozenset({(0, 2), (1, 2), (2, 2), (3, 0)}), primary="kim")
    bo = PatientSpec("bo", "mh-day", frozenset({(0, 0), (1, 0), (2, 0), (3, 0)}), primary="lee")
    instance = Instance(dict(TRACKS), {"kim": kim, "lee": lee}, {"ana": ana, "bo": bo}, STEADY)
    assert coverable(instance) == {"ana", "bo"}
    assert bounds.by_leader_type(instance, {"ana", "bo"}, time_limit=5.0) == (2, True)
    together = bounds.together(instance)
    assert (together.together, together.proven) == (1, True)
    plan = solver.solve(instance)
    assert len(plan.at_dose(instance)) == 1 and check(instance, plan) == []
    assert (plan.bound, plan.status) == (1, "OPTIMAL")


def test_the_relaxations_leaders_give_a_complete_feasible_start() -> None:
    """The first solve starts from the best week with the relaxation's group leaders: a value for every
    variable of the model, in the model's order, that CP-SAT accepts as a whole plan."""
    from ortools.sat.python import cp_model

    from openiop.scheduling import synthetic

    instance = synthetic.program(60, seed=2, settings=Settings(time_limit=4.0))
    covered = coverable(instance)
    joint = bounds.together(instance, alone=covered)
    assert joint.leaders and 0 < joint.leaders_at_dose <= joint.together
    model = solver.build(instance, covered=covered)
    solver._maximize_at_dose(model, joint)
    start = solver._start_from(model, joint.leaders, time_limit=2.0, workers=2)
    assert start is not None
    values, at_dose = start
    for v, value in zip(solver._every(model), values, strict=True):
        model.m.add_hint(v, value)
    check_start = cp_model.CpSolver()
    check_start.parameters.fix_variables_to_their_hinted_value = True
    assert check_start.solve(model.m) == cp_model.OPTIMAL
    # the leaders are the relaxation's, and most of the relaxation's patients reach the dose with them
    assert {key for key, v in model.y.items() if check_start.value(v)} == joint.leaders
    assert at_dose == check_start.objective_value >= len(greedy.solve(instance).at_dose(instance))
