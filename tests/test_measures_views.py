"""Measures over HTTP: the patient's form, the crisis path, staff administration,
due measures and reminders, import of the reference questionnaires, trajectories, export."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from openiop.audit.models import AuditEntry
from openiop.core.errors import ServiceError
from openiop.measures import services
from openiop.measures.models import MeasureReminder, MeasureResponse, MeasureSchedule, Questionnaire
from openiop.outbox.models import OutboxMessage
from openiop.safety import services as safety_services
from openiop.safety.models import SafetyAlert
from tests.conftest import World
from tests.test_measures_fhir import REFERENCE

CRISIS_LINES = ("988", "833-773-2445", "911")


def phq9_post(values: list[int]) -> dict[str, str]:
    return {f"q{n}": str(v) for n, v in enumerate(values, start=1)}


def fill_url(slug: str = "phq9") -> str:
    return reverse("measures:fill", kwargs={"slug": slug})


@pytest.fixture
def phq9(world: World) -> Questionnaire:
    return services.builtin_questionnaire("phq9")


def test_patient_sees_an_accessible_phq9_form(world: World, client_for, phq9: Questionnaire) -> None:
    page = client_for(world.pat_user).get(fill_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<fieldset") == 10  # one per question, each with a legend
    assert html.count("<legend>") == 10
    assert 'type="radio" name="q9" value="1"' in html
    assert "Thoughts that you would be better off dead" in html
    assert "(required)" in html and 'aria-required="true"' in html
    assert "Pfizer" in html  # the copyright line
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.action == "read" and entry.patient_id == world.pat.pk


def test_crisis_path_end_to_end(
    world: World, client_for, phq9: Questionnaire, django_capture_on_commit_callbacks
) -> None:
    client = client_for(world.pat_user)
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(fill_url(), phq9_post([1, 1, 1, 1, 1, 1, 1, 1, 1]))
    assert posted.status_code == 302
    response = MeasureResponse.objects.get(patient=world.pat)
    assert (response.total, response.band, response.critical_items) == (9, "mild", [9])
    # the alert exists, for Pat, and reached Carla (her clinician) and Dora (director)
    alert = SafetyAlert.objects.get(patient=world.pat)
    assert alert.source == "measure" and alert.status == "open"
    assert alert.about == f"measures.measureresponse:{response.pk}"
    assert {u.username for u in alert.notified.all()} == {"carla", "dora"}
    assert alert.link == reverse("measures:trajectories", kwargs={"patient_id": world.pat.pk})
    # emails go out without clinical details
    to_carla = [m for m in mail.outbox if m.to == ["carla@example.org"]]
    assert to_carla
    for message in mail.outbox:
        assert "PHQ" not in message.body and "item 9" not in message.body and "Pat" not in message.body
    # the response and the alert are both in the audit log, flagged
    assert AuditEntry.objects.filter(record_type="measures.measureresponse", flagged=True, patient=world.pat).exists()
    assert AuditEntry.objects.filter(record_type="safety.safetyalert", flagged=True, patient=world.pat).exists()
    # the patient sees crisis resources at once, and is told the form is not watched
    done = client.get(posted["Location"])
    html = done.content.decode()
    assert 'id="crisis-now"' in html and 'role="alert"' in html
    for line in CRISIS_LINES:
        assert f'href="tel:{line.replace("-", "")}"' in html
    assert "This form is not watched around the clock." in html
    # Carla sees it on her alert list
    alerts = client_for(world.carla).get(reverse("safety:alert_list"))
    assert "Pat Example" in alerts.content.decode()


def test_no_crisis_box_without_a_critical_answer(world: World, client_for, phq9: Questionnaire) -> None:
    client = client_for(world.pat_user)
    posted = client.post(fill_url(), phq9_post([3, 3, 3, 3, 3, 3, 3, 3, 0]))
    assert MeasureResponse.objects.get().total == 24
    assert not SafetyAlert.objects.exists()
    html = client.get(posted["Location"]).content.decode()
    assert 'id="crisis-now"' not in html


def test_the_alert_is_created_in_the_same_transaction(world: World, phq9: Questionnaire, monkeypatch) -> None:
    parsed = phq9.parsed()
    answers: dict[str, Any] = {str(n): parsed.by_link_id()[str(n)].options[1] for n in range(1, 10)}

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("alert failed")

    monkeypatch.setattr(safety_services, "raise_alert", broken)
    with pytest.raises(RuntimeError):
        services.submit_response(questionnaire=phq9, patient=world.pat, actor=world.pat_user, answers=answers)
    # no response stored without its alert
    assert not MeasureResponse.objects.exists()
    monkeypatch.undo()
    # and an alert never outlives a response that rolled back
    with transaction.atomic():
        services.submit_response(questionnaire=phq9, patient=world.pat, actor=world.pat_user, answers=answers)
        assert SafetyAlert.objects.count() == 1 and MeasureResponse.objects.count() == 1
        transaction.set_rollback(True)
    assert not SafetyAlert.objects.exists() and not MeasureResponse.objects.exists()


def test_missing_required_answers_are_refused_and_nothing_stored(world: World, client_for, phq9: Questionnaire) -> None:
    client = client_for(world.pat_user)
    data = phq9_post([1, 1, 1, 1, 1, 1, 1, 1, 1])
    del data["q3"]
    page = client.post(fill_url(), data)
    assert page.status_code == 400
    assert "Please answer this question." in page.content.decode()
    bogus = client.post(fill_url(), {**phq9_post([1] * 9), "q2": "7"})
    assert bogus.status_code == 400
    assert not MeasureResponse.objects.exists() and not SafetyAlert.objects.exists()


def test_item9_left_blank_is_not_treated_as_no(world: World, client_for, phq9: Questionnaire) -> None:
    # the built-in PHQ-9 requires item 9, so a blank item 9 cannot slip through as "no"
    data = phq9_post([2] * 9)
    del data["q9"]
    assert client_for(world.pat_user).post(fill_url(), data).status_code == 400
    assert not MeasureResponse.objects.exists()


def test_staff_administer_in_session_raises_the_alert(world: World, client_for, phq9: Questionnaire) -> None:
    client = client_for(world.carla)
    url = reverse("measures:administer", kwargs={"patient_id": world.pat.pk, "slug": "phq9"})
    assert "Recording answers given by Pat Example" in client.get(url).content.decode()
    posted = client.post(url, phq9_post([0, 0, 0, 0, 0, 0, 0, 0, 2]), follow=True)
    response = MeasureResponse.objects.get()
    assert response.administered_by_staff and response.submitted_by == world.carla
    assert response.critical_items == [9]
    assert SafetyAlert.objects.filter(patient=world.pat, status="open").count() == 1
    assert "A safety alert is open" in posted.content.decode()
    # a clinician without Pat on their caseload cannot administer to her
    assert client_for(world.oscar).get(url).status_code == 404


def test_due_measures_on_today_then_done(world: World, client_for, phq9: Questionnaire) -> None:
    MeasureSchedule.objects.create(track=world.track, questionnaire=phq9)
    client = client_for(world.pat_user)
    today = client.get(reverse("intake:patient_today")).content.decode()
    assert "Check-ins waiting for you" in today and fill_url() in today
    client.post(fill_url(), phq9_post([0] * 9))
    response = MeasureResponse.objects.get()
    assert response.occasion == "intake" and response.enrollment is not None
    today = client.get(reverse("intake:patient_today")).content.decode()
    assert "Check-ins waiting for you" not in today


def test_reminders_are_queued_once_without_clinical_details(world: World, phq9: Questionnaire) -> None:
    MeasureSchedule.objects.create(track=world.track, questionnaire=phq9)
    out = StringIO()
    call_command("send_measure_reminders", stdout=out)
    assert "Queued 2 reminder(s)." in out.getvalue()  # pat and quinn (same track)
    messages = OutboxMessage.objects.filter(purpose="measure-reminder")
    assert sorted(m.to_address for m in messages) == ["pat@example.org", "quinn@example.org"]
    for message in messages:
        assert "PHQ" not in message.body and "depress" not in message.body.lower()
    call_command("send_measure_reminders", stdout=out)
    assert OutboxMessage.objects.filter(purpose="measure-reminder").count() == 2
    assert MeasureReminder.objects.count() == 2


@pytest.mark.parametrize("name", ["nlm-lforms-phq9.json", "hl7-sdc-phq9-questionnaire.json"])
def test_director_imports_a_reference_questionnaire_patient_answers_it(world: World, client_for, name: str) -> None:
    director = client_for(world.dora)
    with (REFERENCE / name).open("rb") as upload:
        page = director.post(reverse("measures:import"), {"file": upload, "critical_link_ids": ""})
    assert page.status_code == 302, page.content.decode()[:2000]
    questionnaire = Questionnaire.objects.get(program=world.harborview)
    assert questionnaire.instrument_key == "phq9"
    assert AuditEntry.objects.filter(record_type="measures.questionnaire", action="create", actor=world.dora).exists()
    # Pat's form renders it and the score follows the published PHQ-9 rules
    client = client_for(world.pat_user)
    form = client.get(fill_url(questionnaire.slug))
    html = form.content.decode()
    assert form.status_code == 200 and "Little interest or pleasure in doing things" in html
    posted = client.post(fill_url(questionnaire.slug), phq9_post([2, 2, 2, 2, 2, 1, 1, 0, 1]))
    assert posted.status_code == 302
    response = MeasureResponse.objects.get()
    assert (response.total, response.band, response.critical_items) == (13, "moderate", [9])
    assert SafetyAlert.objects.filter(patient=world.pat).count() == 1
    # the stored QuestionnaireResponse and Observation validate
    bundle = client_for(world.carla).get(
        reverse("measures:response_fhir", kwargs={"patient_id": world.pat.pk, "response_id": response.pk})
    )
    Bundle.model_validate(bundle.json())
    total = next(e["resource"] for e in bundle.json()["entry"] if e["resource"]["resourceType"] == "Observation")
    assert total["code"]["coding"][0]["code"] == "44261-6" and total["valueInteger"] == 13


def test_import_refuses_an_unsupported_construct(world: World, client_for, tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text(
        json.dumps(
            {
                "resourceType": "Questionnaire",
                "status": "active",
                "item": [{"linkId": "when", "type": "dateTime", "text": "When?"}],
            }
        )
    )
    with path.open("rb") as upload:
        page = client_for(world.dora).post(reverse("measures:import"), {"file": upload})
    assert page.status_code == 400
    assert "Unsupported construct in item &#x27;when&#x27;: item type &#x27;dateTime&#x27;" in page.content.decode()
    assert not Questionnaire.objects.filter(program=world.harborview).exists()


def test_import_with_program_critical_items(world: World, client_for, tmp_path: Path) -> None:
    data = {
        "resourceType": "Questionnaire",
        "status": "active",
        "title": "Evening check",
        "item": [
            {"linkId": "sleep", "type": "integer", "text": "Hours slept"},
            {"linkId": "unsafe", "type": "boolean", "text": "Do you feel unsafe tonight?", "required": True},
        ],
    }
    path = tmp_path / "q.json"
    path.write_text(json.dumps(data))
    with path.open("rb") as upload:
        client_for(world.dora).post(reverse("measures:import"), {"file": upload, "critical_link_ids": "unsafe"})
    questionnaire = Questionnaire.objects.get(program=world.harborview)
    assert questionnaire.critical_link_ids == ["unsafe"]
    client = client_for(world.pat_user)
    posted = client.post(fill_url(questionnaire.slug), {"q1": "5", "q2": "true"})
    assert posted.status_code == 302
    assert MeasureResponse.objects.get().critical_items == [2]
    assert SafetyAlert.objects.filter(patient=world.pat).count() == 1
    assert 'id="crisis-now"' in client.get(posted["Location"]).content.decode()


def _response_weeks_ago(world: World, questionnaire: Questionnaire, values: list[int], weeks: int) -> MeasureResponse:
    parsed = questionnaire.parsed()
    answers = {str(n): parsed.by_link_id()[str(n)].options[v] for n, v in enumerate(values, start=1)}
    response = services.submit_response(
        questionnaire=questionnaire, patient=world.pat, actor=world.pat_user, answers=answers
    )
    MeasureResponse.objects.filter(pk=response.pk).update(authored_at=timezone.now() - timedelta(weeks=weeks))
    return response


def test_trajectory_chart_and_caseload_order(world: World, client_for, phq9: Questionnaire) -> None:
    _response_weeks_ago(world, phq9, [2, 2, 2, 2, 2, 2, 2, 2, 0], 5)  # 16 baseline
    _response_weeks_ago(world, phq9, [1, 1, 1, 1, 1, 1, 1, 1, 0], 0)  # 8: drop 8 >= 6, 50 % -> response
    client = client_for(world.carla)
    page = client.get(reverse("measures:trajectories", kwargs={"patient_id": world.pat.pk}))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and html.count("<circle") == 2 and 'stroke-dasharray="4 3"' in html  # baseline line
    assert "<title>moderately severe</title>" in html  # bands shaded
    assert "Baseline 16, latest 8." in html and "Reliable improvement." in html and "Response" in html
    caseload = client.get(reverse("measures:caseload"))
    assert "Pat Example" in caseload.content.decode()
    assert AuditEntry.objects.filter(actor=world.carla, detail__purpose="measures-caseload").exists()


def test_caseload_sorts_worsening_first(world: World, client_for, phq9: Questionnaire) -> None:
    from openiop.intake.models import CareTeamMember

    CareTeamMember.objects.create(patient=world.quinn, clinician=world.carla)
    _response_weeks_ago(world, phq9, [0] * 9, 5)  # pat 0 -> 0: stalled
    _response_weeks_ago(world, phq9, [0] * 9, 0)
    parsed = phq9.parsed()
    for weeks, values in ((5, [1] * 8 + [0]), (0, [2] * 8 + [0])):  # quinn 8 -> 16: worsening
        r = services.submit_response(
            questionnaire=phq9,
            patient=world.quinn,
            actor=world.quinn_user,
            answers={str(n): parsed.by_link_id()[str(n)].options[v] for n, v in enumerate(values, start=1)},
        )
        MeasureResponse.objects.filter(pk=r.pk).update(authored_at=timezone.now() - timedelta(weeks=weeks))
    client = client_for(world.carla)
    html = client.get(reverse("measures:caseload")).content.decode()
    assert html.index("Quinn Example") < html.index("Pat Example")
    assert "reliable worsening" in html
    html = client.get(reverse("measures:caseload") + "?sort=stalled").content.decode()
    assert html.index("Pat Example") < html.index("Quinn Example")
    assert "no reliable change" in html


def test_export_of_another_patients_response_is_404(world: World, client_for, phq9: Questionnaire) -> None:
    response = _response_weeks_ago(world, phq9, [0] * 9, 0)
    url = reverse("measures:response_fhir", kwargs={"patient_id": world.quinn.pk, "response_id": response.pk})
    assert client_for(world.dora).get(url).status_code == 404  # Quinn's chart, Pat's response
    done = reverse("measures:done", kwargs={"response_id": response.pk})
    assert client_for(world.quinn_user).get(done).status_code == 404


def test_director_sets_schedules_per_track(world: World, client_for, phq9: Questionnaire) -> None:
    gad7 = services.builtin_questionnaire("gad7")
    client = client_for(world.dora)
    url = reverse("measures:schedules")
    page = client.get(url)
    assert f'name="s-{world.track.pk}-{phq9.pk}-weekly"' in page.content.decode()
    client.post(
        url,
        {f"s-{world.track.pk}-{phq9.pk}-intake": "on", f"s-{world.track.pk}-{phq9.pk}-weekly": "on",
         f"s-{world.track.pk}-{gad7.pk}-discharge": "on"},
    )  # fmt: skip
    rows = {(s.questionnaire.slug, s.at_intake, s.weekly, s.at_discharge) for s in MeasureSchedule.objects.all()}
    assert rows == {("phq9", True, True, False), ("gad7", False, False, True)}
    assert AuditEntry.objects.filter(actor=world.dora, record_type="measures.measureschedule").exists()
    assert f'name="s-{world.track.pk}-{phq9.pk}-weekly" id="s-{world.track.pk}-{phq9.pk}-weekly" checked' in (
        client.get(url).content.decode()
    )
    # another program's track is refused, nothing changes
    from openiop.scheduling.models import Track

    other = Track.objects.get(program=world.elsewhere)
    with pytest.raises(ServiceError):
        services.set_schedules(
            program=world.harborview, actor=world.dora, plan={(other.pk, phq9.pk): (True, True, True)}
        )
    assert MeasureSchedule.objects.count() == 2


def test_progress_caseload_query_count_does_not_grow_with_patients(
    world: World, client_for, phq9: Questionnaire
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from openiop.intake.models import CareTeamMember
    from tests.conftest import enroll, make_patient

    parsed = phq9.parsed()
    answers = {str(n): parsed.by_link_id()[str(n)].options[1] for n in range(1, 10)}
    answers["9"] = parsed.by_link_id()["9"].options[0]

    def grow(count: int) -> None:
        start = world.harborview.patients.count()
        for n in range(start, start + count):
            patient = make_patient(world.harborview, f"H-M{n}", None, f"M{n}")
            enroll(patient, world.track)
            CareTeamMember.objects.create(patient=patient, clinician=world.carla, is_primary=True)
            for _ in range(2):
                services.submit_response(questionnaire=phq9, patient=patient, actor=world.carla, answers=answers)

    client = client_for(world.carla)
    url = reverse("measures:caseload")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    grow(3)
    count()  # warm: session, two-factor device
    small = count()
    grow(12)
    large = count()
    assert large == small, f"{small} queries with 3 patients, {large} with 15"


def test_progress_list_comes_a_page_at_a_time_and_reads_only_that_page(
    world: World, client_for, phq9: Questionnaire, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openiop.intake.models import CareTeamMember
    from openiop.measures import views

    monkeypatch.setattr(views, "PROGRESS_PAGE_SIZE", 1)
    CareTeamMember.objects.create(patient=world.quinn, clinician=world.carla)
    _response_weeks_ago(world, phq9, [0] * 9, 5)  # Pat: 0 -> 0
    _response_weeks_ago(world, phq9, [0] * 9, 0)
    parsed = phq9.parsed()
    for weeks, values in ((5, [1] * 8 + [0]), (0, [2] * 8 + [0])):  # Quinn 8 -> 16: worsening, first
        r = services.submit_response(
            questionnaire=phq9,
            patient=world.quinn,
            actor=world.quinn_user,
            answers={str(n): parsed.by_link_id()[str(n)].options[v] for n, v in enumerate(values, start=1)},
        )
        MeasureResponse.objects.filter(pk=r.pk).update(authored_at=timezone.now() - timedelta(weeks=weeks))
    client = client_for(world.carla)
    reads = AuditEntry.objects.filter(actor=world.carla, detail__purpose="measures-caseload")
    first = client.get(reverse("measures:caseload")).content.decode()
    assert "Quinn Example" in first and "Pat Example" not in first
    assert "Page 1 of 2" in first and "?sort=worsening&amp;page=2" in first
    assert list(reads.values_list("patient_id", flat=True)) == [world.quinn.pk]
    second = client.get(reverse("measures:caseload") + "?sort=worsening&page=2").content.decode()
    assert "Pat Example" in second and "Quinn Example" not in second
    assert sorted(reads.values_list("patient_id", flat=True)) == sorted([world.quinn.pk, world.pat.pk])


def test_a_readmitted_patients_change_counts_from_this_admission(world: World, client_for, phq9: Questionnaire) -> None:
    """Pat was here a year ago and left well (PHQ-9 4 then 4); back now at 16 and down to 8 in three weeks.
    The change shown is this admission's (16 -> 8, a reliable improvement), not 4 -> 8 from the first visit."""
    from openiop.intake.models import Enrollment, EnrollmentStatus

    current = Enrollment.objects.get(patient=world.pat, status=EnrollmentStatus.ACTIVE)
    earlier = Enrollment.objects.create(
        patient=world.pat,
        track=current.track,
        status=EnrollmentStatus.FINISHED,
        start_date=timezone.localdate() - timedelta(weeks=60),
        planned_end_date=timezone.localdate() - timedelta(weeks=48),
        end_date=timezone.localdate() - timedelta(weeks=48),
    )
    for weeks, values, episode in (
        (58, [1, 1, 1, 1, 0, 0, 0, 0, 0], earlier),
        (50, [1, 1, 1, 1, 0, 0, 0, 0, 0], earlier),
        (3, [2, 2, 2, 2, 2, 2, 2, 2, 0], current),
        (0, [1, 1, 1, 1, 1, 1, 1, 1, 0], current),
    ):
        response = _response_weeks_ago(world, phq9, values, weeks)
        MeasureResponse.objects.filter(pk=response.pk).update(enrollment=episode)
    client = client_for(world.carla)
    html = client.get(reverse("measures:trajectories", kwargs={"patient_id": world.pat.pk})).content.decode()
    assert "Baseline 16, latest 8." in html and "Reliable improvement." in html
    assert html.count("<circle") == 4  # the chart still shows the whole history
    caseload = client.get(reverse("measures:caseload")).content.decode()
    assert "Pat Example" in caseload and "reliable improvement" in caseload
