"""FHIR Questionnaire import, answers, scoring and export (openiop.measures.fhir)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from openiop.measures import fhir, scoring
from openiop.measures.fhir import QuestionnaireError

REFERENCE = Path("/work/shared/reference/fhir")
if not REFERENCE.exists():  # the same files, wherever the shared folder is
    REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "fhir"


def load(name: str) -> dict[str, Any]:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def nlm_response(option_codes: Sequence[str | None], total: float | None = None) -> dict[str, Any]:
    """A QuestionnaireResponse to the NLM PHQ-9, items by LOINC answer code."""
    link_ids = [
        "/44250-9",
        "/44255-8",
        "/44259-0",
        "/44254-1",
        "/44251-7",
        "/44258-2",
        "/44252-5",
        "/44253-3",
        "/44260-8",
    ]
    items: list[dict[str, Any]] = []
    for link_id, code in zip(link_ids, option_codes, strict=True):
        if code is not None:
            items.append({"linkId": link_id, "answer": [{"valueCoding": {"system": "http://loinc.org", "code": code}}]})
    if total is not None:
        items.append({"linkId": "/44261-6", "answer": [{"valueDecimal": total}]})
    return {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items}


LA = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]  # not at all .. nearly every day


def test_both_reference_questionnaires_import_and_are_recognised_as_phq9() -> None:
    nlm = fhir.parse_questionnaire(load("nlm-lforms-phq9.json"))
    sdc = fhir.parse_questionnaire(load("hl7-sdc-phq9-questionnaire.json"))
    assert nlm.instrument_key == sdc.instrument_key == "phq9"
    # NLM: 9 scored + item 10 (difficulty); its calculated total is not a question
    assert [q.link_id for q in nlm.questions()][-2:] == ["/44260-8", "/69722-7"]
    assert len(nlm.questions()) == 10
    assert "/44261-6" not in nlm.by_link_id()
    # SDC: 9 questions under a group; the quantity total (calculated) is skipped, not refused
    assert len(sdc.questions()) == 9 and sdc.items[0].type == "group"
    assert sdc.questions()[0].options[3].ordinal == 3  # from the contained ValueSet
    # item 9 is critical in both
    assert [q.link_id for q in nlm.questions() if q.critical] == ["/44260-8"]
    assert [q.link_id for q in sdc.questions() if q.critical] == ["H1/T1/Q9"]
    assert "calculatedExpression" in nlm.warnings[0]


def test_nlm_phq9_scored_from_a_response_and_its_own_total_ignored() -> None:
    parsed = fhir.parse_questionnaire(load("nlm-lforms-phq9.json"))
    # answers 1,2,3,0,1,2,3,0,0 = 12 -> moderate; the response claims a total of 0
    codes = [LA[i] for i in [1, 2, 3, 0, 1, 2, 3, 0, 0]]
    answers = fhir.answers_from_response(parsed, nlm_response(codes, total=0))
    result = fhir.score(parsed, answers)
    assert (result.instrument, result.total, result.band, result.critical_items) == ("phq9", 12, "moderate", [])


def test_nlm_phq9_unanswered_items_are_not_zero() -> None:
    # NLM's own FHIRPath would count the two missing items as 0 (total 9); we withhold the total
    parsed = fhir.parse_questionnaire(load("nlm-lforms-phq9.json"))
    codes: list[str | None] = [LA[3], LA[3], LA[3], None, None, LA[0], LA[0], LA[0], LA[0]]
    result = fhir.score(parsed, fhir.answers_from_response(parsed, nlm_response(codes)))
    assert result.total is None
    assert any("No total" in w for w in result.warnings)


def test_sdc_phq9_scored_with_item9_critical() -> None:
    parsed = fhir.parse_questionnaire(load("hl7-sdc-phq9-questionnaire.json"))
    displays = ["Not-at-all", "Several-days", "More than half the days", "Nearly every day"]
    values = [3, 3, 2, 2, 1, 1, 0, 0, 1]  # = 13, item 9 "several days"
    response = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [
            {
                "linkId": "H1/T1",
                "item": [
                    {
                        "linkId": f"H1/T1/Q{n}",
                        "answer": [
                            {
                                "valueCoding": {
                                    "system": "http://hl7.org/fhir/uv/sdc/CodeSystem/CSPHQ9",
                                    "code": displays[v],
                                }
                            }
                        ],
                    }
                    for n, v in enumerate(values, start=1)
                ]
                + [{"linkId": "H1/TS", "answer": [{"valueQuantity": {"value": 27}}]}],
            }
        ],
    }
    result = fhir.score(parsed, fhir.answers_from_response(parsed, response))
    assert (result.total, result.band, result.critical_items) == (13, "moderate", [9])


@pytest.mark.parametrize("key", fhir.builtin_keys())
def test_builtin_instruments_validate_and_match_the_scoring_module(key: str) -> None:
    raw = json.loads((fhir.INSTRUMENTS_DIR / f"{key}.json").read_text(encoding="utf-8"))
    Questionnaire.model_validate(raw)
    parsed = fhir.parse_questionnaire(raw)
    instrument = scoring.INSTRUMENTS[key]
    assert parsed.instrument_key == key
    assert parsed.copyright, f"{key} has no copyright line"
    choices = [q for q in parsed.questions() if q.type == "choice"]
    published = [item for item in instrument.items if item.labels]
    assert len(choices) == len(published)
    for question, item in zip(choices, published, strict=True):
        assert [o.ordinal for o in question.options] == list(item.scores)
        assert [o.display for o in question.options] == list(item.labels)


def test_builtin_loinc_codes() -> None:
    phq9 = json.loads((fhir.INSTRUMENTS_DIR / "phq9.json").read_text())
    assert phq9["code"][0]["code"] == "44249-1"
    item9 = next(i for i in phq9["item"] if i["linkId"] == "9")
    assert item9["code"][0]["code"] == "44260-8"
    assert [o["valueCoding"]["code"] for o in item9["answerOption"]] == LA


def test_builtin_audit_dast_reversed_ordinals() -> None:
    dast = fhir.load_builtin("dast10")
    item3 = dast.by_link_id()["3"]
    assert [(o.display, o.ordinal) for o in item3.options] == [("No", Decimal(1)), ("Yes", Decimal(0))]
    audit = fhir.load_builtin("audit")
    assert [o.ordinal for o in audit.by_link_id()["9"].options] == [0, 2, 4]


def test_bam_enable_when_hides_drug_days_when_no_drug_use() -> None:
    parsed = fhir.load_builtin("bam")
    item6 = parsed.by_link_id()["6"]
    assert "7a" not in fhir.enabled_link_ids(parsed, {"6": item6.options[0]})
    assert "7a" in fhir.enabled_link_ids(parsed, {"6": item6.options[2]})
    # answers to a hidden item are ignored when scoring and exporting
    answers: dict[str, Any] = {str(n): parsed.by_link_id()[str(n)].options[0] for n in range(1, 18) if n != 7}
    answers["7a"] = 12
    response = fhir.build_response(parsed, answers, response_id="1", subject="Patient/1", authored="2026-11-27")
    assert "7a" not in json.dumps(response)


def minimal(items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "status": "active", "item": items, **extra}


CHOICE = {
    "linkId": "mood",
    "type": "choice",
    "text": "Mood?",
    "answerOption": [
        {"valueCoding": {"code": "ok"}, "extension": [{"url": fhir.ORDINAL, "valueDecimal": 0}]},
        {"valueCoding": {"code": "low"}, "extension": [{"url": fhir.ORDINAL, "valueDecimal": 2}]},
    ],
}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"linkId": "d", "type": "date", "text": "When?"}, "item 'd': item type 'date'"),
        ({"linkId": "a", "type": "attachment", "text": "File"}, "item 'a': item type 'attachment'"),
        ({"linkId": "o", "type": "open-choice", "text": "x", "answerOption": [{"valueString": "a"}]}, "'open-choice'"),
        ({"linkId": "q", "type": "quantity", "text": "Weight"}, "item type 'quantity'"),
        ({**CHOICE, "repeats": True}, "repeating answers"),
        (
            {"linkId": "v", "type": "choice", "text": "x", "answerValueSet": "http://loinc.org/vs/LL358-3"},
            "not a contained ValueSet",
        ),
        (
            {
                **CHOICE,
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression",
                        "valueExpression": {"language": "text/fhirpath", "expression": "true"},
                    }
                ],
            },
            "enableWhenExpression",
        ),
        (
            {
                "linkId": "t",
                "type": "string",
                "text": "x",
                "enableWhen": [{"question": "nope", "operator": "exists", "answerBoolean": True}],
            },
            "refers to 'nope'",
        ),
    ],
)
def test_unsupported_constructs_are_refused_by_name(item: dict[str, Any], message: str) -> None:
    with pytest.raises(QuestionnaireError) as caught:
        fhir.parse_questionnaire(minimal([CHOICE, item]))
    assert message in str(caught.value)


def test_invalid_fhir_is_refused_with_the_validator_message() -> None:
    with pytest.raises(QuestionnaireError, match=r"Not a valid FHIR R4 Questionnaire: item\.1\.linkId"):
        fhir.parse_questionnaire(minimal([CHOICE, {"type": "string", "text": "x"}]))
    with pytest.raises(QuestionnaireError, match=r"item\.0\.required: Input should be a valid boolean"):
        fhir.parse_questionnaire(minimal([{**CHOICE, "required": "maybe"}]))
    with pytest.raises(QuestionnaireError, match="Expected a FHIR Questionnaire; got 'Patient'"):
        fhir.parse_questionnaire({"resourceType": "Patient"})
    with pytest.raises(QuestionnaireError, match="no questions"):
        fhir.parse_questionnaire(minimal([{"linkId": "x", "type": "display", "text": "Hi"}]))


def test_recognised_instrument_with_wrong_ordinals_is_refused() -> None:
    data = load("nlm-lforms-phq9.json")
    broken = copy.deepcopy(data)
    broken["item"][2]["answerOption"][1]["extension"][1]["valueDecimal"] = 2
    with pytest.raises(QuestionnaireError, match="ordinalValue 2 differs from the published PHQ-9 score 1"):
        fhir.parse_questionnaire(broken)
    fewer = copy.deepcopy(data)
    del fewer["item"][3]
    del fewer["item"][3]
    with pytest.raises(QuestionnaireError, match="has 8 choice items; PHQ-9 has 10"):
        fhir.parse_questionnaire(fewer)


def test_generic_questionnaire_all_supported_types() -> None:
    data = minimal(
        [
            {"linkId": "intro", "type": "display", "text": "About your week"},
            {
                "linkId": "g",
                "type": "group",
                "text": "Group",
                "item": [
                    {**CHOICE, "required": True},
                    {"linkId": "n", "type": "integer", "text": "Hours slept"},
                    {"linkId": "w", "type": "decimal", "text": "Weight"},
                    {"linkId": "b", "type": "boolean", "text": "Worked?"},
                    {"linkId": "s", "type": "string", "text": "One word"},
                    {
                        "linkId": "t",
                        "type": "text",
                        "text": "Why low?",
                        "enableWhen": [{"question": "mood", "operator": "=", "answerCoding": {"code": "low"}}],
                    },
                    {
                        "linkId": "harm",
                        "type": "boolean",
                        "text": "Thoughts of harm?",
                        "extension": [{"url": fhir.CRITICAL, "valueBoolean": True}],
                    },
                ],
            },
        ],
        url="https://example.org/Questionnaire/weekly",
        title="Weekly check",
    )
    parsed = fhir.parse_questionnaire(data)
    assert parsed.instrument_key is None
    by = parsed.by_link_id()
    answers: dict[str, Any] = {
        "mood": by["mood"].options[1],
        "n": 7,
        "b": True,
        "s": "tired",
        "t": "work",
        "harm": True,
    }
    result = fhir.score(parsed, answers)
    # the only item with ordinals is "mood" (low = 2); "harm" is question 7 in document order
    assert (result.total, result.band, result.critical_items) == (2, None, [7])
    answers["mood"] = by["mood"].options[0]
    assert "t" not in fhir.enabled_link_ids(parsed, answers)
    assert fhir.missing_required(parsed, {}) == [by["mood"]]
    response = fhir.build_response(parsed, answers, response_id="9", subject="Patient/3", authored="2026-11-27")
    QuestionnaireResponse.model_validate(response)
    assert fhir.answers_from_response(parsed, response) == {k: v for k, v in answers.items() if k != "t"}


def test_response_errors_name_the_item() -> None:
    parsed = fhir.parse_questionnaire(minimal([CHOICE]))
    bad_code = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [{"linkId": "mood", "answer": [{"valueCoding": {"code": "ecstatic"}}]}],
    }
    with pytest.raises(QuestionnaireError, match=r"Item 'mood': the answer .* is not one of its options"):
        fhir.answers_from_response(parsed, bad_code)
    unknown = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [{"linkId": "zzz", "answer": [{"valueString": "x"}]}],
    }
    with pytest.raises(QuestionnaireError, match="item 'zzz', which is not in the Questionnaire"):
        fhir.answers_from_response(parsed, unknown)
    with pytest.raises(QuestionnaireError, match="Not a valid FHIR R4 QuestionnaireResponse"):
        fhir.answers_from_response(parsed, {"resourceType": "QuestionnaireResponse", "item": []})


def test_observations_validate_and_carry_the_loinc_total() -> None:
    parsed = fhir.load_builtin("phq9")
    answers = {str(n): parsed.by_link_id()[str(n)].options[2] for n in range(1, 10)}
    result = fhir.score(parsed, answers)
    assert result.total == 18
    observations = fhir.build_observations(parsed, result, response_id="5", subject="Patient/1", effective="2026-11-27")
    assert len(observations) == 1
    Observation.model_validate(observations[0])
    assert observations[0]["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "44261-6",
        "display": "PHQ-9 total score",
    }
    assert observations[0]["valueInteger"] == 18
    bam = fhir.load_builtin("bam")
    bam_answers = {str(n): bam.by_link_id()[str(n)].options[1] for n in range(1, 18) if n != 7}
    bam_obs = fhir.build_observations(
        bam, fhir.score(bam, bam_answers), response_id="6", subject="Patient/1", effective="2026-11-27"
    )
    assert sorted(o["code"]["coding"][0]["code"] for o in bam_obs) == ["bam-protective", "bam-risk", "bam-use"]
