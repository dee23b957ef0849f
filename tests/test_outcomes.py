"""The outcome report: figures equal an independent computation, small cells are suppressed, no names leave."""

from __future__ import annotations

import csv
import io
import math
import random
import statistics
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AuditEntry
from openiop.intake.models import Enrollment, EnrollmentStatus
from openiop.measures import services as measures
from openiop.reports import outcomes
from openiop.treatment.models import DischargeReason, DischargeSummary
from tests.conftest import World, make_patient
from tests.test_treatment_reviews import pdf_text

# --- the arithmetic ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("df", "expected"), [(1, 12.706), (10, 2.228), (30, 2.042), (40, 2.021), (120, 1.980)])
def test_t_quantiles(df: int, expected: float) -> None:
    assert outcomes.t975(df) == pytest.approx(expected, abs=0.002)


def test_wilson_interval_matches_the_textbook() -> None:
    interval = outcomes.wilson(50, 100)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.4038, 0.5962)
    none = outcomes.wilson(0, 20)
    assert none is not None and none.low == 0 and round(none.high, 3) == 0.161


def test_mean_interval_is_mean_plus_minus_t_times_standard_error() -> None:
    values = [-6.0, -4.0, -9.0, -1.0, 0.0, -7.0, -3.0, -5.0, -8.0, -2.0, -4.0]
    interval = outcomes.mean_ci(values)
    assert interval is not None
    half = 2.228 * statistics.stdev(values) / math.sqrt(11)
    assert interval.estimate == pytest.approx(statistics.fmean(values))
    assert (interval.low, interval.high) == pytest.approx((interval.estimate - half, interval.estimate + half))


@pytest.mark.parametrize(
    ("successes", "n", "shown"),
    [(5, 40, False), (35, 40, False), (20, 40, True), (11, 22, True), (0, 30, True), (30, 30, True), (6, 10, False)],
)
def test_a_proportion_is_suppressed_when_it_would_reveal_a_small_cell(successes: int, n: int, shown: bool) -> None:
    result = outcomes.proportion(successes, n)
    assert (result.interval is not None) is shown and result.suppressed is not shown


def test_small_counts_are_suppressed_but_zero_is_shown() -> None:
    assert outcomes.count(10).text == "<11" and outcomes.count(11).text == "11" and outcomes.count(0).text == "0"


# --- over real records -----------------------------------------------------------------------------------------

PHQ9_PAIRS_SEED = 11


def discharged_program(world: World, people: int) -> list[tuple[int, int, DischargeReason, Decimal]]:
    """`people` episodes discharged in the last 60 days, each with a first and last PHQ-9 (and a middle one)."""
    rng = random.Random(PHQ9_PAIRS_SEED)
    phq9 = measures.builtin_questionnaire("phq9")
    options = phq9.parsed().by_link_id()
    made = []
    today = timezone.localdate()
    for n in range(people):
        patient = make_patient(world.harborview, f"H-O{n}", None, f"Outcome{n}")
        start = today - timedelta(days=rng.randint(70, 120))
        end = today - timedelta(days=rng.randint(1, 60))
        enrollment = Enrollment.objects.create(
            patient=patient, track=world.track, status=EnrollmentStatus.ACTIVE, start_date=start,
            planned_end_date=start + timedelta(weeks=10),
        )  # fmt: skip
        scores = [[rng.randint(1, 3) for _ in range(8)] + [0] for _ in range(3)]
        scores[-1] = [rng.randint(0, 2) for _ in range(8)] + [0]
        for values in scores:
            measures.submit_response(
                questionnaire=phq9, patient=patient, actor=world.carla, enrollment=enrollment,
                answers={str(i): options[str(i)].options[v] for i, v in enumerate(values, start=1)},
            )  # fmt: skip
        reason = rng.choice([DischargeReason.COMPLETED, DischargeReason.COMPLETED, DischargeReason.LEFT])
        hours = Decimal(rng.randint(40, 110))
        Enrollment.objects.filter(pk=enrollment.pk).update(status=EnrollmentStatus.FINISHED, end_date=end)
        DischargeSummary.objects.create(
            enrollment=enrollment, reason=reason, discharge_date=end, services_received="IOP", hours_attended=hours,
            outpatient_therapist="Dr X", crisis_plan="988", written_by=world.carla,
        )  # fmt: skip
        made.append((sum(scores[0]), sum(scores[-1]), reason, hours))
    return made


def figures(client, **params: str) -> dict[str, tuple[str, str]]:
    response = client.get(reverse("reports:outcomes"), params)
    assert response.status_code == 200
    return {figure: (value, interval) for figure, value, interval, _base in response.context["rows"]}


def test_report_figures_equal_an_independent_computation(world: World, client_for) -> None:
    n = 40
    made = discharged_program(world, n)
    shown = figures(client_for(world.dora))
    changes = [final - first for first, final, _r, _h in made]
    assert shown["Discharged"][0] == str(n)
    mean = statistics.fmean(changes)
    half = outcomes.t975(n - 1) * statistics.stdev(changes) / math.sqrt(n)
    assert shown["PHQ-9: mean change"] == (f"{mean:.1f}", f"{mean - half:.1f} to {mean + half:.1f}")
    completed = sum(1 for *_x, reason, _h in made if reason == DischargeReason.COMPLETED)

    def rate(k: int) -> str:
        return f"{100 * k / n:.1f}%" if k >= 11 and n - k >= 11 else "<11"

    assert shown["Completed the program"][0] == rate(completed)
    improved = sum(1 for first, final, *_r in made if first - final >= 6)  # settings: PHQ-9 reliable change 6
    responded = sum(1 for first, final, *_r in made if (first - final) * 100 >= 50 * first)
    remitted = sum(1 for _first, final, *_r in made if final < 5)
    published = 0
    for label, k in (("reliable improvement", improved), ("response (50% lower)", responded), ("remission", remitted)):
        assert shown[f"PHQ-9: {label}"][0] == rate(k), (label, k)
        published += rate(k) != "<11"
    assert published >= 1 and rate(completed) != "<11"  # some rates are shown, so their values are checked
    hours = [float(h) for *_x, h in made]
    assert shown["Mean hours attended"][0] == f"{statistics.fmean(hours):.1f}"
    assert shown["GAD-7: people with intake and discharge scores"][0] == "0"
    entry = AuditEntry.objects.filter(record_type="reports.outcome", actor=world.dora).get()
    assert entry.patient is None  # a de-identified report is not a read of anyone's record


def test_small_programs_show_only_suppressed_cells_and_exports_hold_no_names(world: World, client_for) -> None:
    discharged_program(world, 6)
    dora = client_for(world.dora)
    shown = figures(dora)
    assert shown["Discharged"][0] == "<11" and shown["PHQ-9: mean change"][0] == "<11"
    assert shown["PHQ-9: remission"][0] == "<11"
    csv_response = dora.get(reverse("reports:outcomes_csv"))
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    text = csv_response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert ["Discharged", "<11", "", ""] in rows
    pdf = dora.get(reverse("reports:outcomes_pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    pdf_words = pdf_text(pdf.content)
    assert "Outcome report" in pdf_words and "<11" in pdf_words
    for name in ("Outcome0", "Outcome5", "Example", "H-O1", "Pat"):
        assert name not in text and name not in pdf_words and name.encode() not in pdf.content


@pytest.mark.parametrize("view", ["reports:outcomes", "reports:outcomes_csv", "reports:outcomes_pdf"])
def test_bad_filters_are_a_400(world: World, client_for, view: str) -> None:
    response = client_for(world.dora).get(reverse(view), {"start": "2026-13-01"})
    assert response.status_code == 400
