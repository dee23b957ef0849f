"""The level-of-care rules: one test per rule, then a table of whole cases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openiop.referrals import level_of_care as loc
from openiop.referrals.level_of_care import Facts, Thresholds, recommend

CALM = Facts(
    age=30, focus="mental-health", withdrawal=0, biomedical=0, emotional=0, readiness=0, relapse=0, environment=0,
    hours_per_week=12, days_per_week=4,
)  # fmt: skip


def fired(facts: Facts, limits: Thresholds | None = None) -> set[str]:
    return {f.rule for f in recommend(facts, limits).fired}


# --- one test per rule: it fires on its condition, and not just below it -------


def test_danger_now() -> None:
    result = recommend(replace(CALM, danger_now=True))
    assert result.level == loc.CRISIS_NOW and "danger-now" in fired(replace(CALM, danger_now=True))
    assert "danger-now" not in fired(CALM)
    assert result.fired[0].facts == {"danger_now": True}


def test_emotional_severe() -> None:
    assert recommend(replace(CALM, emotional=4)).level == loc.CRISIS_NOW
    assert "emotional-severe" in fired(replace(CALM, emotional=4))
    assert "emotional-severe" not in fired(replace(CALM, emotional=3))


def test_withdrawal_severe() -> None:
    assert recommend(replace(CALM, withdrawal=3)).level == loc.INPATIENT
    assert "withdrawal-severe" not in fired(replace(CALM, withdrawal=2))


def test_biomedical_severe() -> None:
    assert recommend(replace(CALM, biomedical=3)).level == loc.INPATIENT
    assert "biomedical-severe" not in fired(replace(CALM, biomedical=2))


def test_unsafe_home_high_relapse() -> None:
    assert recommend(replace(CALM, environment=4, relapse=3)).level == loc.INPATIENT
    assert "unsafe-home-high-relapse" not in fired(replace(CALM, environment=4, relapse=2))
    assert "unsafe-home-high-relapse" not in fired(replace(CALM, environment=3, relapse=3))


def test_emotional_high() -> None:
    facts = replace(CALM, emotional=3, hours_per_week=24, days_per_week=5)
    assert recommend(facts).level == loc.PARTIAL and "emotional-high" in fired(facts)
    assert "emotional-high" not in fired(replace(facts, emotional=2))


def test_relapse_severe() -> None:
    facts = replace(CALM, relapse=4, hours_per_week=24, days_per_week=5)
    assert recommend(facts).level == loc.PARTIAL and "relapse-severe" in fired(facts)
    assert "relapse-severe" not in fired(replace(facts, relapse=3))


def test_several_high() -> None:
    facts = replace(CALM, readiness=3, environment=3, hours_per_week=24, days_per_week=5)
    assert recommend(facts).level == loc.PARTIAL and "several-high" in fired(facts)
    assert "several-high" not in fired(replace(facts, environment=2))


def test_moderate_need() -> None:
    facts = replace(CALM, readiness=2)
    result = recommend(facts)
    assert result.level == loc.IOP and "moderate-need" in fired(facts)
    says = next(f.says for f in result.fired if f.rule == "moderate-need")
    assert "readiness to change rated 2 of 4" in says
    assert "moderate-need" not in fired(CALM)


def test_stepping_down() -> None:
    facts = replace(CALM, stepping_down=True)
    assert recommend(facts).level == loc.IOP and "stepping-down" in fired(facts)
    assert "low-need" not in fired(facts)


def test_low_need() -> None:
    result = recommend(replace(CALM, emotional=1, relapse=1))
    assert result.level == loc.OUTPATIENT and not result.dose_shortfall
    assert {f.rule for f in result.fired} == {"low-need"}


def test_partial_dose_short_falls_to_iop_when_iop_hours_fit() -> None:
    facts = replace(CALM, emotional=3, hours_per_week=12, days_per_week=4)
    result = recommend(facts)
    assert (result.clinical_level, result.level, result.dose_shortfall) == (loc.PARTIAL, loc.IOP, True)
    assert "partial-dose-short" in fired(facts)
    assert "20 hours" in next(f.says for f in result.fired if f.rule == "partial-dose-short")


def test_iop_dose_short_names_the_nearest_option() -> None:
    facts = replace(CALM, emotional=2, hours_per_week=6, days_per_week=2)
    result = recommend(facts)
    assert (result.clinical_level, result.level) == (loc.IOP, loc.OUTPATIENT)
    assert "nearest option: outpatient therapy" in loc.explain(result)
    # days alone can fall short too
    assert recommend(replace(facts, hours_per_week=12, days_per_week=2)).level == loc.OUTPATIENT
    assert "iop-dose-short" not in fired(replace(facts, hours_per_week=9, days_per_week=3))


def test_too_young() -> None:
    facts = replace(CALM, age=11, emotional=2)
    assert recommend(facts).level == loc.OUTPATIENT and "too-young" in fired(facts)
    assert "too-young" not in fired(replace(facts, age=13))


def test_track_adolescent() -> None:
    facts = replace(CALM, age=15, focus="substance-use", relapse=2, hours_per_week=6, days_per_week=3)
    assert recommend(facts).track == loc.TRACK_ADOLESCENT and "track-adolescent" in fired(facts)


def test_track_co_occurring() -> None:
    assert recommend(replace(CALM, focus="co-occurring", relapse=2)).track == loc.TRACK_CO_OCCURRING


def test_track_substance_use() -> None:
    assert recommend(replace(CALM, focus="substance-use", relapse=2)).track == loc.TRACK_SUBSTANCE_USE


def test_track_mental_health() -> None:
    assert recommend(replace(CALM, emotional=2)).track == loc.TRACK_MENTAL_HEALTH


def test_every_rule_has_a_test_above() -> None:
    tested = {name[5:].replace("_", "-") for name in globals() if name.startswith("test_")}
    for rule in loc.RULES:
        assert any(name.startswith(rule.id) for name in tested), rule.id


def test_thresholds_come_from_the_caller() -> None:
    facts = replace(CALM, emotional=2, hours_per_week=8, days_per_week=3)
    assert recommend(facts).level == loc.OUTPATIENT
    assert recommend(facts, Thresholds(iop_min_hours_adult=8)).level == loc.IOP


def test_bad_facts_are_refused() -> None:
    with pytest.raises(ValueError, match="emotional"):
        replace(CALM, emotional=5)
    with pytest.raises(ValueError, match="focus"):
        replace(CALM, focus="gambling")
    with pytest.raises(ValueError, match="hours"):
        replace(CALM, hours_per_week=-1)


def test_no_django_imports() -> None:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(loc))
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in modules if m.startswith(("django", "openiop"))]


# --- whole cases ------------------------------------------------------------
# (age, focus, W, B, E, R, L, H, hours, days, danger, step-down) -> (level, track)
CASES = [
    # adults, substance use
    ((34, "substance-use", 1, 0, 1, 2, 3, 2, 12, 4, False, False), (loc.IOP, loc.TRACK_SUBSTANCE_USE)),
    ((41, "substance-use", 2, 1, 1, 1, 2, 1, 9, 3, False, False), (loc.IOP, loc.TRACK_SUBSTANCE_USE)),
    ((29, "substance-use", 3, 1, 1, 2, 2, 2, 12, 4, False, False), (loc.INPATIENT, None)),
    ((55, "substance-use", 1, 3, 1, 1, 1, 1, 12, 4, False, False), (loc.INPATIENT, None)),
    ((38, "substance-use", 1, 1, 1, 2, 3, 4, 12, 4, False, False), (loc.INPATIENT, None)),
    ((23, "substance-use", 1, 0, 1, 3, 3, 2, 25, 5, False, False), (loc.PARTIAL, None)),
    ((23, "substance-use", 1, 0, 1, 3, 3, 2, 12, 4, False, False), (loc.IOP, loc.TRACK_SUBSTANCE_USE)),
    ((23, "substance-use", 1, 0, 1, 3, 3, 2, 5, 2, False, False), (loc.OUTPATIENT, None)),
    ((47, "substance-use", 1, 1, 1, 1, 1, 1, 12, 4, False, True), (loc.IOP, loc.TRACK_SUBSTANCE_USE)),
    ((47, "substance-use", 0, 0, 0, 1, 1, 0, 4, 2, False, True), (loc.OUTPATIENT, None)),
    ((31, "substance-use", 0, 0, 1, 1, 1, 1, 12, 4, False, False), (loc.OUTPATIENT, None)),
    ((62, "substance-use", 2, 2, 2, 2, 2, 2, 9, 3, False, False), (loc.IOP, loc.TRACK_SUBSTANCE_USE)),
    ((36, "substance-use", 0, 0, 1, 1, 4, 1, 20, 5, False, False), (loc.PARTIAL, None)),
    # adults, mental health
    ((52, "mental-health", 0, 1, 2, 1, 1, 1, 6, 2, False, False), (loc.OUTPATIENT, None)),
    ((52, "mental-health", 0, 1, 2, 1, 1, 1, 9, 3, False, False), (loc.IOP, loc.TRACK_MENTAL_HEALTH)),
    ((27, "mental-health", 0, 0, 3, 1, 1, 1, 20, 5, False, False), (loc.PARTIAL, None)),
    ((27, "mental-health", 0, 0, 3, 1, 1, 1, 19, 5, False, False), (loc.IOP, loc.TRACK_MENTAL_HEALTH)),
    ((27, "mental-health", 0, 0, 4, 1, 1, 1, 20, 5, False, False), (loc.CRISIS_NOW, None)),
    ((27, "mental-health", 0, 0, 2, 0, 0, 0, 12, 4, True, False), (loc.CRISIS_NOW, None)),
    ((70, "mental-health", 0, 2, 1, 1, 1, 1, 10, 4, False, False), (loc.IOP, loc.TRACK_MENTAL_HEALTH)),
    ((19, "mental-health", 0, 0, 1, 0, 0, 1, 3, 1, False, False), (loc.OUTPATIENT, None)),
    ((44, "mental-health", 0, 0, 2, 2, 1, 3, 12, 2, False, False), (loc.OUTPATIENT, None)),
    ((44, "mental-health", 0, 0, 1, 1, 1, 1, 12, 4, False, True), (loc.IOP, loc.TRACK_MENTAL_HEALTH)),
    # adults, co-occurring
    ((45, "co-occurring", 1, 1, 1, 1, 2, 1, 15, 5, False, True), (loc.IOP, loc.TRACK_CO_OCCURRING)),
    ((33, "co-occurring", 2, 1, 2, 2, 2, 2, 12, 4, False, False), (loc.IOP, loc.TRACK_CO_OCCURRING)),
    ((33, "co-occurring", 2, 1, 3, 2, 2, 2, 30, 6, False, False), (loc.PARTIAL, None)),
    ((27, "co-occurring", 3, 2, 3, 2, 3, 3, 20, 5, True, False), (loc.CRISIS_NOW, None)),
    ((58, "co-occurring", 1, 4, 2, 1, 1, 1, 12, 4, False, False), (loc.INPATIENT, None)),
    # adolescents
    ((16, "mental-health", 0, 0, 2, 1, 1, 2, 7, 3, False, False), (loc.IOP, loc.TRACK_ADOLESCENT)),
    ((16, "mental-health", 0, 0, 2, 1, 1, 2, 5, 3, False, False), (loc.OUTPATIENT, None)),
    ((13, "substance-use", 1, 0, 1, 2, 2, 1, 6, 3, False, False), (loc.IOP, loc.TRACK_ADOLESCENT)),
    ((17, "co-occurring", 1, 0, 2, 1, 2, 2, 8, 4, False, False), (loc.IOP, loc.TRACK_ADOLESCENT)),
    ((15, "mental-health", 0, 0, 3, 1, 1, 1, 8, 4, False, False), (loc.IOP, loc.TRACK_ADOLESCENT)),
    ((15, "mental-health", 0, 0, 1, 1, 0, 1, 8, 4, True, False), (loc.CRISIS_NOW, None)),
    ((14, "mental-health", 0, 0, 1, 0, 1, 1, 8, 4, False, False), (loc.OUTPATIENT, None)),
    # edges of the age range
    ((18, "mental-health", 0, 0, 2, 1, 1, 1, 7, 3, False, False), (loc.OUTPATIENT, None)),
    ((12, "mental-health", 0, 0, 2, 1, 1, 1, 9, 3, False, False), (loc.OUTPATIENT, None)),
]


@pytest.mark.parametrize(("row", "expected"), CASES)
def test_whole_case(row: tuple, expected: tuple[str, str | None]) -> None:  # type: ignore[type-arg]
    age, focus, w, b, e, r, relapse, h, hours, days, danger, step = row
    facts = Facts(
        age=age, focus=focus, withdrawal=w, biomedical=b, emotional=e, readiness=r, relapse=relapse, environment=h,
        hours_per_week=hours, days_per_week=days, danger_now=danger, stepping_down=step,
    )  # fmt: skip
    result = recommend(facts)
    assert (result.level, result.track) == expected, loc.explain(result)
    assert result.fired, "every recommendation says why"


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
