"""openiop.measures.scoring against hand-computed published examples.

Every expected value below was worked out by hand from the published scoring
rules (REFERENCE.md), not by running the code."""

from __future__ import annotations

import pytest

from openiop.measures import scoring
from openiop.measures.scoring import (
    AUDIT,
    AUDIT_C,
    BAM,
    DAST10,
    GAD7,
    PCL5,
    PHQ9,
    WHO5,
    ScoringError,
    Thresholds,
    compare,
    score_answers,
    score_items,
)


def phq9_with_total(total: int, item9: int = 0) -> list[int]:
    """Nine answers summing to `total`, item 9 as given (fills items 1-8 with 3s first)."""
    rest = total - item9
    answers = []
    for _ in range(8):
        value = min(3, rest)
        answers.append(value)
        rest -= value
    assert rest == 0
    return [*answers, item9]


# -- PHQ-9 ----------------------------------------------------------------------


def test_phq9_issue_example() -> None:
    result = score_answers(PHQ9, [0, 0, 0, 1, 2, 1, 3, 2, 1])
    # 0+0+0+1+2+1+3+2+1 = 10 -> moderate (10-14); item 9 = 1 > 0 -> critical
    assert result.as_dict() == {
        "instrument": "phq9",
        "total": 10,
        "band": "moderate",
        "critical_items": [9],
        "subscales": {},
        "warnings": [],
    }


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (24, "severe"),
    ],
)
def test_phq9_band_boundaries(total: int, band: str) -> None:
    result = score_answers(PHQ9, phq9_with_total(total))
    assert (result.total, result.band, result.critical_items) == (total, band, [])


def test_phq9_all_maximum() -> None:
    result = score_answers(PHQ9, [3] * 9)
    assert (result.total, result.band, result.critical_items) == (27, "severe", [9])


def test_phq9_all_zero_is_minimal_and_not_critical() -> None:
    result = score_answers(PHQ9, [0] * 9)
    assert (result.total, result.band, result.critical_items, result.warnings) == (0, "minimal", [], [])


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_any_positive_answer_is_critical(item9: int) -> None:
    assert score_answers(PHQ9, [0] * 8 + [item9]).critical_items == [9]


def test_phq9_item10_is_not_scored() -> None:
    without = score_answers(PHQ9, [1] * 9)
    with_difficulty = score_answers(PHQ9, [1] * 9 + [3])
    assert without.total == with_difficulty.total == 9


def test_phq9_one_missing_item_is_prorated() -> None:
    # items 1-8 answered, sum 2+2+2+2+1+1+1+1 = 12; item 9 missing
    # prorated: 12 x 9/8 = 13.5 -> 14 (half up) -> moderate
    result = score_answers(PHQ9, [2, 2, 2, 2, 1, 1, 1, 1, None])
    assert result.total == 14
    assert result.band == "moderate"
    assert result.critical_items == []
    assert any("Critical item 9" in w and "not answered" in w for w in result.warnings)
    assert any("prorated" in w for w in result.warnings)


def test_phq9_one_missing_item_rounding_down() -> None:
    # sum of 8 answered = 1+1+1+1+1+1+1+0 = 7; 7 x 9/8 = 7.875 -> 8
    result = score_answers(PHQ9, [1, 1, 1, 1, 1, 1, 1, None, 0])
    assert (result.total, result.band) == (8, "mild")


def test_phq9_two_missing_items_give_no_total_never_zero() -> None:
    result = score_answers(PHQ9, [3, 3, 3, 3, 3, 3, 3, None, None])
    assert result.total is None and result.band is None
    assert any("No total" in w for w in result.warnings)


def test_phq9_all_missing_gives_no_total() -> None:
    result = score_answers(PHQ9, [None] * 9)
    assert result.total is None


def test_phq9_rejects_out_of_range_and_wrong_length() -> None:
    with pytest.raises(ScoringError, match="item 3: option 4 does not exist"):
        score_answers(PHQ9, [0, 0, 4, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ScoringError, match="takes 9 to 10 answers; got 8"):
        score_answers(PHQ9, [0] * 8)
    with pytest.raises(ScoringError, match="got 11"):
        score_answers(PHQ9, [0] * 11)


def test_score_items_rejects_a_value_that_is_not_a_score() -> None:
    with pytest.raises(ScoringError, match="score 5 is not one of 0, 1, 2, 3"):
        score_items(PHQ9, [5] + [0] * 9)


def test_extra_critical_items_from_the_program() -> None:
    # a program marks GAD-7 item 7 critical: any answer above 0 counts
    result = score_answers(GAD7, [0, 0, 0, 0, 0, 0, 2], extra_critical=[7])
    assert result.critical_items == [7]


# -- GAD-7 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0] * 7, 0, "minimal"),
        ([1, 1, 1, 1, 0, 0, 0], 4, "minimal"),
        ([1, 1, 1, 1, 1, 0, 0], 5, "mild"),
        ([3, 3, 3, 0, 0, 0, 0], 9, "mild"),
        ([3, 3, 3, 1, 0, 0, 0], 10, "moderate"),
        ([2, 2, 2, 2, 2, 2, 2], 14, "moderate"),
        ([3, 3, 3, 3, 3, 0, 0], 15, "severe"),
        ([3] * 7, 21, "severe"),
    ],
)
def test_gad7(answers: list[int], total: int, band: str) -> None:
    result = score_answers(GAD7, answers)
    assert (result.total, result.band, result.critical_items) == (total, band, [])


def test_gad7_one_missing_prorated_two_missing_withheld() -> None:
    # 6 answered: 2+2+2+2+2+1 = 11; 11 x 7/6 = 12.83 -> 13
    assert score_answers(GAD7, [2, 2, 2, 2, 2, 1, None]).total == 13
    assert score_answers(GAD7, [2, 2, 2, 2, 2, None, None]).total is None


# -- AUDIT and AUDIT-C ------------------------------------------------------------


def test_audit_items_9_and_10_score_0_2_4() -> None:
    # option 1 ("yes, but not in the last year") = 2; option 2 ("during the last year") = 4
    result = score_answers(AUDIT, [0] * 8 + [1, 2])
    assert result.total == 6
    assert result.band == "zone I"
    with pytest.raises(ScoringError, match="item 9: option 3 does not exist"):
        score_answers(AUDIT, [0] * 8 + [3, 0])


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0] * 10, 0, "zone I"),
        ([4, 3, 0, 0, 0, 0, 0, 0, 0, 0], 7, "zone I"),
        ([4, 4, 0, 0, 0, 0, 0, 0, 0, 0], 8, "zone II"),
        ([4, 4, 4, 3, 0, 0, 0, 0, 0, 0], 15, "zone II"),
        ([4, 4, 4, 4, 0, 0, 0, 0, 0, 0], 16, "zone III"),
        ([4, 4, 4, 3, 0, 0, 0, 0, 2, 0], 19, "zone III"),
        ([4, 4, 4, 4, 0, 0, 0, 0, 2, 0], 20, "zone IV"),
        ([4] * 8 + [2, 2], 40, "zone IV"),
    ],
)
def test_audit_zone_boundaries(answers: list[int], total: int, band: str) -> None:
    result = score_answers(AUDIT, answers)
    assert (result.total, result.band) == (total, band)


def test_audit_reports_its_audit_c_part() -> None:
    # items 1-3: 2 + 1 + 1 = 4
    assert score_answers(AUDIT, [2, 1, 1, 0, 0, 0, 0, 0, 0, 0]).subscales == {"audit_c": 4}


def test_audit_no_prorating() -> None:
    result = score_answers(AUDIT, [1] * 9 + [None])
    assert result.total is None and result.band is None


@pytest.mark.parametrize(
    ("answers", "sex", "band"),
    [
        ([1, 1, 0], None, "negative"),
        ([1, 1, 1], None, "positive for women"),
        ([2, 1, 1], None, "positive"),
        ([1, 1, 1], "female", "positive"),
        ([1, 1, 0], "female", "negative"),
        ([1, 1, 1], "male", "negative"),
        ([2, 1, 1], "male", "positive"),
        ([4, 4, 4], None, "positive"),
    ],
)
def test_audit_c_cut_offs(answers: list[int], sex: str | None, band: str) -> None:
    result = score_answers(AUDIT_C, answers, sex=sex)
    assert result.total == sum(answers)
    assert result.band == band


# -- DAST-10 ----------------------------------------------------------------------


def test_dast10_item3_is_reversed() -> None:
    # all "no" (index 0): only item 3 scores (no = 1)
    assert score_answers(DAST10, [0] * 10).total == 1
    # all "yes": 9 items score 1, item 3 scores 0
    assert score_answers(DAST10, [1] * 10).total == 9
    # "no" everywhere except "yes" to item 3: 0 -> none
    result = score_answers(DAST10, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    assert (result.total, result.band) == (0, "none")


@pytest.mark.parametrize(
    ("yes_items", "total", "band"),
    [
        ([3], 0, "none"),
        ([], 1, "low"),  # item 3 "no" scores 1
        ([1, 3], 1, "low"),
        ([1], 2, "low"),
        ([1, 2], 3, "moderate"),
        ([1, 2, 4, 5], 5, "moderate"),
        ([1, 2, 4, 5, 6], 6, "substantial"),
        ([1, 2, 4, 5, 6, 7, 8], 8, "substantial"),
        ([1, 2, 4, 5, 6, 7, 8, 9], 9, "severe"),
        ([1, 2, 4, 5, 6, 7, 8, 9, 10], 10, "severe"),
    ],
)
def test_dast10_bands(yes_items: list[int], total: int, band: str) -> None:
    answers = [1 if n in yes_items else 0 for n in range(1, 11)]
    result = score_answers(DAST10, answers)
    assert (result.total, result.band) == (total, band)


# -- PCL-5 --------------------------------------------------------------------------


def test_pcl5_clusters_and_pattern_met() -> None:
    # B: items 1-5 = 2,0,0,0,0 (1 endorsed >= 2); C: 6-7 = 3,0; D: 8-14 = 2,2,0,0,0,0,0; E: 15-20 = 2,2,0,0,0,0
    answers = [2, 0, 0, 0, 0, 3, 0, 2, 2, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0]
    result = score_answers(PCL5, answers)
    assert result.total == 13  # 2 + 3 + 4 + 4
    assert result.band == "below cut-off"
    assert result.subscales == {
        "cluster_b": 2,
        "cluster_c": 3,
        "cluster_d": 4,
        "cluster_e": 4,
        "dsm5_provisional_diagnosis": True,
    }


def test_pcl5_pattern_not_met_when_a_cluster_is_short() -> None:
    # as above but cluster E has only one item >= 2 (and a 1 that does not count)
    answers = [2, 0, 0, 0, 0, 3, 0, 2, 2, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0]
    result = score_answers(PCL5, answers)
    assert result.subscales["dsm5_provisional_diagnosis"] is False
    assert result.subscales["cluster_e"] == 3


@pytest.mark.parametrize(("total", "band"), [(32, "below cut-off"), (33, "probable PTSD"), (80, "probable PTSD")])
def test_pcl5_cut_off_default_33(total: int, band: str) -> None:
    answers = []
    rest = total
    for _ in range(20):
        answers.append(min(4, rest))
        rest -= answers[-1]
    assert score_answers(PCL5, answers).band == band


def test_pcl5_cut_off_is_a_setting() -> None:
    answers = [4] * 7 + [3] + [0] * 12  # 31
    assert score_answers(PCL5, answers).band == "below cut-off"
    assert score_answers(PCL5, answers, thresholds=Thresholds(pcl5_probable_ptsd=31)).band == "probable PTSD"


def test_pcl5_missing_items() -> None:
    # two missing (items 19, 20): prorated 36 x 20/18 = 40
    answers: list[int | None] = [2] * 18 + [None, None]
    result = score_answers(PCL5, answers)
    assert result.total == 40
    assert result.subscales["cluster_e"] is None
    # B, C, D met; E has 15-18 endorsed already -> met despite the missing items
    assert result.subscales["dsm5_provisional_diagnosis"] is True
    # three missing: no total
    assert score_answers(PCL5, [2] * 17 + [None] * 3).total is None


def test_pcl5_pattern_undecided_when_missing_items_could_change_it() -> None:
    # cluster C (6-7): item 6 = 0, item 7 missing -> could still be met
    answers: list[int | None] = [2, 0, 0, 0, 0, 0, None, 2, 2, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0]
    result = score_answers(PCL5, answers)
    assert result.subscales["dsm5_provisional_diagnosis"] is None
    assert result.subscales["cluster_c"] is None


# -- WHO-5 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band", "percentage"),
    [
        ([0] * 5, 0, "poor well-being", 0),
        ([3, 3, 2, 2, 2], 12, "poor well-being", 48),
        ([3, 3, 3, 2, 2], 13, "adequate well-being", 52),
        ([5] * 5, 25, "adequate well-being", 100),
    ],
)
def test_who5(answers: list[int], total: int, band: str, percentage: int) -> None:
    result = score_answers(WHO5, answers)
    assert (result.total, result.band, result.subscales) == (total, band, {"percentage": percentage})


def test_who5_no_prorating() -> None:
    assert score_answers(WHO5, [5, 5, 5, 5, None]).total is None


# -- BAM -------------------------------------------------------------------------------


def bam(values: dict[int, int]) -> list[int | None]:
    """17 answers by item number; item 7 blank."""
    return [None if n == 7 else values.get(n, 0) for n in range(1, 18)]


def test_bam_subscales_and_no_total() -> None:
    # use = 4+5+6 = 1+2+3 = 6; risk = 1,2,3,8,11,15 = 4+1+2+3+1+0 = 11;
    # protective = 9,10,12,13,14,16 = 4+2+1+0+(yes = 4)+3 = 14
    answers = bam({1: 4, 2: 1, 3: 2, 4: 1, 5: 2, 6: 3, 8: 3, 9: 4, 10: 2, 11: 1, 12: 1, 13: 0, 14: 1, 16: 3, 17: 2})
    result = score_answers(BAM, answers)
    assert result.total is None and result.band is None
    assert result.subscales == {"use": 6, "risk": 11, "protective": 14}
    assert result.warnings == []


def test_bam_all_zero_and_all_max() -> None:
    assert score_answers(BAM, bam({})).subscales == {"use": 0, "risk": 0, "protective": 0}
    top = {n: 4 for n in range(1, 18)} | {14: 1}
    assert score_answers(BAM, bam(top)).subscales == {"use": 12, "risk": 24, "protective": 24}


def test_bam_missing_item_blanks_only_its_subscale() -> None:
    answers = bam({4: 1})
    answers[10] = None  # item 11 (risk)
    result = score_answers(BAM, answers)
    assert result.subscales == {"use": 1, "risk": None, "protective": 0}
    assert any("risk" in w for w in result.warnings)


def test_bam_item7_cannot_be_given_an_option() -> None:
    answers = bam({})
    answers[6] = 0
    with pytest.raises(ScoringError, match="item 7"):
        score_answers(BAM, answers)


# -- change against the baseline ----------------------------------------------------------


def test_phq9_reliable_change_response_remission() -> None:
    # 20 -> 14: drop 6 = reliable (default 6); 30 % drop: no response; not < 5
    change = compare(PHQ9, 20, 14)
    assert (change.difference, change.reliable_improvement, change.reliable_worsening) == (-6, True, False)
    assert (change.response, change.remission) == (False, False)
    # 20 -> 10: exactly 50 % -> response
    assert compare(PHQ9, 20, 10).response is True
    # 20 -> 11: 45 % -> no response
    assert compare(PHQ9, 20, 11).response is False
    # 12 -> 4: remission (< 5), response (67 %)
    change = compare(PHQ9, 12, 4)
    assert (change.remission, change.response) == (True, True)
    # 12 -> 5: not remission
    assert compare(PHQ9, 12, 5).remission is False
    # 10 -> 15: drop of -5: not reliable either way; 10 -> 16: reliable worsening
    assert compare(PHQ9, 10, 15).reliable_worsening is False
    assert compare(PHQ9, 10, 16).reliable_worsening is True


def test_thresholds_are_settings() -> None:
    strict = Thresholds(reliable_change={"phq9": 8}, response_drop_percent=60, phq9_remission_below=3)
    change = compare(PHQ9, 20, 13, strict)
    assert (change.reliable_improvement, change.response) == (False, False)
    assert compare(PHQ9, 10, 4, strict).remission is False
    assert compare(PHQ9, 10, 2, strict).remission is True


def test_gad7_reliable_change_is_4() -> None:
    assert compare(GAD7, 12, 8).reliable_improvement is True
    assert compare(GAD7, 12, 9).reliable_improvement is False
    assert compare(GAD7, 12, 9).remission is None


def test_who5_change_on_the_percentage_scale_higher_is_better() -> None:
    # raw 10 -> 13 = 40 % -> 52 %: +12 points >= 10 -> reliable improvement
    change = compare(WHO5, 10, 13)
    assert (change.difference, change.reliable_improvement, change.response) == (12, True, None)
    # raw 10 -> 12: +8 points -> not reliable
    assert compare(WHO5, 10, 12).reliable_improvement is False
    assert compare(WHO5, 13, 10).reliable_worsening is True


def test_no_reliable_change_threshold_for_audit() -> None:
    change = compare(AUDIT, 20, 5)
    assert change.reliable_improvement is None and change.response is None


def test_help_text_states_the_option_order() -> None:
    text = scoring.help_text(DAST10)
    assert "item 3: 0=No (1), 1=Yes (0)" in text
    assert "0=No (0), 1=Yes (1)" in text
    assert "item 9-10: 0=No (0), 1=Yes, but not in the last year (2), 2=Yes, during the last year (4)" in (
        scoring.help_text(AUDIT)
    )


def test_unknown_instrument() -> None:
    with pytest.raises(ScoringError, match="Unknown instrument 'phq10'"):
        scoring.instrument("phq10")
    assert scoring.instrument("PHQ-9") is PHQ9
