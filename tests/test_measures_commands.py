"""manage.py score and score_response: valid and invalid input, the JSON shape, --help."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openiop.measures import fhir
from tests.test_measures_fhir import LA, REFERENCE, nlm_response

KEYS = {"instrument", "total", "band", "critical_items", "subscales", "warnings"}
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command(*args, stdout=out)
    text = out.getvalue().strip()
    assert "\n" not in text  # one JSON object
    result: dict[str, Any] = json.loads(text)
    assert set(result) == KEYS
    return result


def test_score_issue_example() -> None:
    assert run("score", "--instrument", "phq9", "--answers", "0,0,0,1,2,1,3,2,1") == {
        "instrument": "phq9",
        "total": 10,
        "band": "moderate",
        "critical_items": [9],
        "subscales": {},
        "warnings": [],
    }


def test_score_dast_reversed_and_missing_answers() -> None:
    # all yes except item 3 "no": 9 + 1 = 10 -> severe
    assert run("score", "--instrument", "dast10", "--answers", "1,1,0,1,1,1,1,1,1,1")["total"] == 10
    # PHQ-9 with item 5 missing ("-"): 8 answered 1s -> 8 x 9/8 = 9
    result = run("score", "--instrument", "phq9", "--answers", "1,1,1,1,-,1,1,1,1")
    assert result["total"] == 9 and result["band"] == "mild"
    assert any("prorated" in w for w in result["warnings"])


def test_score_bam_and_pcl5_subscales() -> None:
    result = run("score", "--instrument", "bam", "--answers", "0,0,0,1,1,1,,2,4,0,0,0,0,1,0,4,2")
    assert result["total"] is None
    assert result["subscales"] == {"use": 3, "risk": 2, "protective": 12}
    result = run("score", "--instrument", "pcl5", "--answers", ",".join(["2"] * 20))
    assert result["total"] == 40 and result["band"] == "probable PTSD"
    assert result["subscales"]["dsm5_provisional_diagnosis"] is True


def test_score_audit_c_with_sex() -> None:
    assert run("score", "--instrument", "auditc", "--answers", "1,1,1", "--sex", "female")["band"] == "positive"
    assert run("score", "--instrument", "auditc", "--answers", "1,1,1", "--sex", "male")["band"] == "negative"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--instrument", "phq10", "--answers", "0"], "Unknown instrument 'phq10'"),
        (["--instrument", "phq9", "--answers", "0,0,0"], "PHQ-9 takes 9 to 10 answers; got 3"),
        (["--instrument", "phq9", "--answers", "0,0,0,0,0,0,0,0,4"], "item 9: option 4 does not exist (choose 0 to 3)"),
        (["--instrument", "gad7", "--answers", "0,0,x,0,0,0,0"], "Answer 3 is 'x'"),
        (["--instrument", "gad7", "--answers", "0,0,-1,0,0,0,0"], "Answer 3 is '-1'"),
        (["--instrument", "audit", "--answers", "0,0,0,0,0,0,0,0,3,0"], "item 9: option 3 does not exist"),
    ],
)
def test_score_bad_input(args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("score", *args, stdout=StringIO())
    assert message in str(caught.value)


def test_score_bad_input_exits_non_zero_from_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "score", "--instrument", "phq9", "--answers", "0,0,9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "PHQ-9 takes 9 to 10 answers; got 3" in done.stderr
    assert done.stdout == ""


def test_score_help_states_option_order_per_instrument() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "score", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    text = done.stdout
    for key in ("phq9", "gad7", "audit", "auditc", "dast10", "pcl5", "who5", "bam"):
        assert f"\n{key} (" in text
    assert (
        "item 1-9: 0=Not at all (0), 1=Several days (1), 2=More than half the days (2), 3=Nearly every day (3)" in text
    )
    assert "item 3: 0=No (1), 1=Yes (0)" in text
    assert "Yes/no items: 0 = No, 1 = Yes" in text


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return str(path)


def test_score_response_against_the_nlm_questionnaire(tmp_path: Path) -> None:
    response = write(tmp_path, "r.json", nlm_response([LA[i] for i in [3, 3, 3, 3, 3, 2, 2, 0, 1]], total=3))
    result = run("score_response", "--questionnaire", str(REFERENCE / "nlm-lforms-phq9.json"), response)
    # 3x5 + 2x2 + 0 + 1 = 20 -> severe; item 9 = 1 -> critical; the claimed total 3 is ignored
    assert (result["total"], result["band"], result["critical_items"]) == (20, "severe", [9])


def test_score_response_with_a_builtin_questionnaire(tmp_path: Path) -> None:
    parsed = fhir.load_builtin("gad7")
    answers = {str(n): parsed.by_link_id()[str(n)].options[1] for n in range(1, 8)}
    response = fhir.build_response(parsed, answers, response_id="1", subject="Patient/1", authored="2026-11-27")
    result = run(
        "score_response",
        "--questionnaire",
        str(fhir.INSTRUMENTS_DIR / "gad7.json"),
        write(tmp_path, "r.json", response),
    )
    assert (result["instrument"], result["total"], result["band"]) == ("gad7", 7, "mild")
    assert result["warnings"] == []
    # a response that names another questionnaire is scored, with a warning
    response["questionnaire"] = "https://example.org/Questionnaire/other"
    result = run(
        "score_response",
        "--questionnaire",
        str(fhir.INSTRUMENTS_DIR / "gad7.json"),
        write(tmp_path, "r.json", response),
    )
    assert result["total"] == 7
    assert result["warnings"] == [
        "The response says it answers https://example.org/Questionnaire/other, not "
        "https://openiop.org/fhir/Questionnaire/gad7; scored against the latter."
    ]


def test_score_response_bad_input(tmp_path: Path) -> None:
    q = str(REFERENCE / "nlm-lforms-phq9.json")
    cases = [
        ([q, str(tmp_path / "missing.json")], "Cannot read the response"),
        ([q, write(tmp_path, "bad.json", "{not json")], "is not JSON"),
        (
            [q, write(tmp_path, "p.json", {"resourceType": "Patient"})],
            "Expected a FHIR QuestionnaireResponse; got 'Patient'",
        ),
        (
            [
                write(
                    tmp_path,
                    "q.json",
                    {
                        "resourceType": "Questionnaire",
                        "status": "active",
                        "item": [{"linkId": "d", "type": "date", "text": "When"}],
                    },
                ),
                write(tmp_path, "r2.json", {"resourceType": "QuestionnaireResponse", "status": "completed"}),
            ],
            "Unsupported construct in item 'd': item type 'date'",
        ),
        (
            [
                q,
                write(
                    tmp_path,
                    "r3.json",
                    {
                        "resourceType": "QuestionnaireResponse",
                        "status": "completed",
                        "item": [
                            {
                                "linkId": "/44250-9",
                                "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA0000-0"}}],
                            }
                        ],
                    },
                ),
            ],
            "Item '/44250-9': the answer",
        ),
    ]
    for (questionnaire, response), message in cases:
        with pytest.raises(CommandError) as caught:
            call_command("score_response", "--questionnaire", questionnaire, response, stdout=StringIO())
        assert message in str(caught.value), str(caught.value)
