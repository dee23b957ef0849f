"""The track finder's rules as a table (openiop/portal/trackfinder.py: pure Python)."""

from __future__ import annotations

import pytest

from openiop.portal.trackfinder import Answers, TrackInfo, referral_params, suggest

TRACKS = [
    TrackInfo("adult-su-evening", "adult", "substance-use", "virtual", "evening"),
    TrackInfo("adult-mh-morning", "adult", "mental-health", "hybrid", "morning"),
    TrackInfo("adult-cooc-evening", "adult", "co-occurring", "in-person", "evening"),
    TrackInfo("teen-after-school", "adolescent", "mental-health", "virtual", "afternoon"),
    TrackInfo("adult-su-morning-full", "adult", "substance-use", "virtual", "morning", accepting=False),
]

CASES = [
    # (age, focus, times, modality) -> (tracks, close, too_young)
    ((35, "substance-use", {"evening"}, "virtual"), (("adult-su-evening",), False, False)),
    ((35, "substance-use", set(), "either"), (("adult-su-evening", "adult-cooc-evening"), False, False)),
    ((35, "both", set(), "either"), (("adult-cooc-evening", "adult-mh-morning", "adult-su-evening"), False, False)),
    ((35, "mental-health", {"morning"}, "in-person"), (("adult-mh-morning",), False, False)),  # hybrid fits both
    ((35, "mental-health", {"afternoon"}, "virtual"), (("adult-mh-morning", "adult-cooc-evening"), True, False)),
    ((15, "mental-health", {"afternoon"}, "virtual"), (("teen-after-school",), False, False)),
    ((15, "substance-use", set(), "either"), ((), False, False)),  # no adolescent SU track
    ((17, "unsure", {"evening"}, "either"), (("teen-after-school",), True, False)),
    ((18, "unsure", {"evening"}, "virtual"), (("adult-su-evening",), False, False)),
    ((11, "mental-health", set(), "either"), ((), False, True)),
    ((None, "unsure", {"afternoon"}, "either"), (("teen-after-school",), False, False)),
    ((40, "substance-use", {"morning"}, "virtual"), (("adult-su-evening", "adult-cooc-evening"), True, False)),  # full
]


@pytest.mark.parametrize(("answers", "expected"), CASES)
def test_suggestions(answers: tuple[object, ...], expected: tuple[object, ...]) -> None:
    age, focus, times, modality = answers
    result = suggest(TRACKS, Answers(age=age, focus=focus, times=frozenset(times), modality=modality))  # type: ignore[arg-type,call-overload]
    assert (result.tracks, result.close, result.too_young) == expected


def test_referral_params_carry_the_answers_but_not_the_exact_age() -> None:
    answers = Answers(age=34, focus="both", times=frozenset({"evening", "morning"}), modality="virtual")
    params = referral_params(answers, suggest(TRACKS, answers))
    assert params == [
        ("track", "adult-mh-morning"),  # co-occurring is in person only; hybrid fits "online"
        ("age_group", "adult"),
        ("focus", "both"),
        ("time", "evening"),
        ("time", "morning"),
        ("modality", "virtual"),
    ]
    assert "34" not in str(params)


def test_unsure_and_either_add_nothing() -> None:
    answers = Answers(age=None, focus="unsure", modality="either")
    assert referral_params(answers, suggest([], answers)) == []
