"""The FHIR R4 API: bearer-token integrations with scopes, read and search, Bulk Data $export,
Part 2 records withheld, every access audited, every resource valid R4 (checked with fhir.resources)."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from openiop.audit.models import AuditEntry
from openiop.fhirapi import services
from openiop.fhirapi.models import ApiClient, ExportJob, ExportStatus
from openiop.fhirapi.resources import resource_types
from openiop.intake.models import CareTeamMember, Patient
from openiop.scheduling.models import Focus, Population, Session, SessionAttendee, SessionKind, Track
from tests.conftest import World, enroll, make_patient


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """Parse with fhir.resources (R4B models; raises on anything invalid) and hand the dict back."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


@pytest.fixture
def mia(world: World) -> Patient:
    """A mental-health patient (not covered by Part 2) on Carla's caseload."""
    track = Track.objects.create(
        program=world.harborview,
        name="Adult MH days",
        slug="mh",
        population=Population.ADULT,
        focus=Focus.MENTAL_HEALTH,
    )
    mia = make_patient(world.harborview, "H-9", None, "Mia")
    enroll(mia, track)
    CareTeamMember.objects.create(patient=mia, clinician=world.carla, is_primary=True)
    return mia


def token_for(world: World, scopes: list[str] | None = None, program_director: Any = None) -> str:
    return services.create_client(
        program_director or world.dora, name="Billing", scopes=scopes or ["system/*.read"]
    ).token


def api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_capability_statement_is_public_and_valid(world: World) -> None:
    response = Client().get("/fhir/metadata")
    assert response.status_code == 200 and response["Content-Type"] == "application/fhir+json"
    statement = valid(response.json())
    served = {entry["type"] for entry in statement["rest"][0]["resource"]}
    assert {"Patient", "Practitioner", "CareTeam", "Appointment"} <= served


@pytest.mark.parametrize(
    "header",
    [None, "Bearer nonsense", "Bearer abc.def", "Basic dXNlcjpwYXNz", "Bearer "],
)
def test_no_valid_token_is_401_with_an_operation_outcome(world: World, mia: Patient, header: str | None) -> None:
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = client.get(f"/fhir/Patient/{mia.pk}")
    assert response.status_code == 401
    assert valid(response.json())["resourceType"] == "OperationOutcome"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_session_does_not_open_the_api(world: World, mia: Patient, client_for) -> None:
    assert client_for(world.dora).get(f"/fhir/Patient/{mia.pk}").status_code == 401


def test_director_creates_an_integration_and_sees_the_key_once(world: World, client_for) -> None:
    dora = client_for(world.dora)
    response = dora.post(
        reverse("fhirapi:integrations"),
        {
            "name": "State feed",
            "scopes": ["system/Patient.read"],
            "recipient_name": "Massachusetts  Department of Public Health",
            "purposes": ["HOPERAT"],
        },
    )
    assert response.status_code == 200
    client = ApiClient.objects.get(name="State feed")
    assert (client.recipient_name, client.purposes, client.receives_part2) == (
        "Massachusetts Department of Public Health",
        ["HOPERAT"],
        False,
    )
    token = response.context["token"]
    assert token.startswith(client.client_id + ".") and token.split(".", 1)[1] not in client.secret_sha256
    assert token.encode() in response.content
    assert token.encode() not in dora.get(reverse("fhirapi:integrations")).content  # shown only once
    assert AuditEntry.objects.filter(record_type="fhirapi.apiclient", actor=world.dora, action="create").exists()
    bad = dora.post(reverse("fhirapi:integrations"), {"name": "", "scopes": ["system/Nothing.read"]})
    assert bad.status_code == 400 and ApiClient.objects.count() == 1
    # Revoked: the very next request is refused.
    assert api(token).get("/fhir/Patient").status_code == 200
    assert dora.post(reverse("fhirapi:revoke", args=[client.pk])).status_code == 302
    assert api(token).get("/fhir/Patient").status_code == 401
    assert client_for(world.otto).post(reverse("fhirapi:revoke", args=[client.pk])).status_code == 404


def test_read_a_patient_is_valid_and_audited(world: World, mia: Patient) -> None:
    token = token_for(world)
    response = api(token).get(f"/fhir/Patient/{mia.pk}")
    assert response.status_code == 200
    patient = valid(response.json())
    assert patient["name"] == [{"family": "Example", "given": ["Mia"]}] and patient["birthDate"] == "1990-05-17"
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.actor_role == "api" and entry.patient_id == mia.pk
    assert entry.actor_username == "api:" + token.split(".")[0] and entry.detail["purpose"] == "fhir-read"


def test_part2_records_and_other_programs_are_the_same_404(world: World, mia: Patient) -> None:
    client = api(token_for(world))
    missing = client.get("/fhir/Patient/987654321")
    assert missing.status_code == 404
    for other in (world.pat, world.olga):  # Pat: substance-use track, no consent; Olga: another program
        response = client.get(f"/fhir/Patient/{other.pk}")
        assert response.status_code == 404
        assert response.json()["issue"][0]["code"] == "not-found"
    listing = client.get("/fhir/Patient").json()
    assert [entry["resource"]["id"] for entry in listing["entry"]] == [str(mia.pk)]
    assert not AuditEntry.objects.filter(actor_role="api", patient=world.pat).exists()


def test_search_with_paging_and_clear_errors(world: World, mia: Patient) -> None:
    track = Track.objects.get(slug="mh", program=world.harborview)
    for number in range(5):
        enroll(make_patient(world.harborview, f"H-M{number}", None, f"Max{number}"), track)
    client = api(token_for(world))
    first = client.get("/fhir/Patient", {"name": "max", "_count": "2"}).json()
    assert first["total"] == 5 and len(first["entry"]) == 2
    for entry in first["entry"]:
        valid(entry["resource"])
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get("/fhir/Patient", {"name": "max", "_count": "2", "_page": "2"}).json()
    assert "_page=2" in next_url and {e["resource"]["id"] for e in second["entry"]}.isdisjoint(
        {e["resource"]["id"] for e in first["entry"]}
    )
    assert client.get("/fhir/Patient", {"birthdate": "1990-05-17"}).json()["total"] == 6
    assert client.get("/fhir/Patient", {"birthdate": "gt1990-05-17"}).json()["total"] == 0
    for bad in ({"colour": "red"}, {"birthdate": "yesterday"}, {"_count": "0"}, {"_count": "x"}, {"_id": "1;drop"}):
        response = client.get("/fhir/Patient", bad)
        assert response.status_code == 400, bad
        assert valid(response.json())["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/Nonsense").status_code == 404


def test_scopes_limit_what_an_integration_reads(world: World, mia: Patient) -> None:
    client = api(token_for(world, ["system/Patient.read"]))
    assert client.get(f"/fhir/Patient/{mia.pk}").status_code == 200
    refused = client.get("/fhir/Appointment")
    assert refused.status_code == 403 and refused.json()["issue"][0]["code"] == "forbidden"


def test_appointments_care_teams_and_practitioners(world: World, mia: Patient) -> None:
    start = timezone.make_aware(datetime(2026, 11, 23, 18, 0))
    group = Session.objects.create(
        program=world.harborview, kind=SessionKind.GROUP, starts_at=start, ends_at=start + timedelta(hours=3)
    )
    group.clinicians.add(world.carla)
    SessionAttendee.objects.create(session=group, patient=mia)
    SessionAttendee.objects.create(session=group, patient=world.pat)  # Part 2: must not appear
    later = Session.objects.create(
        program=world.harborview,
        kind=SessionKind.INDIVIDUAL,
        starts_at=start + timedelta(days=3),
        ends_at=start + timedelta(days=3, hours=1),
    )
    SessionAttendee.objects.create(session=later, patient=mia)
    client = api(token_for(world))
    found = client.get("/fhir/Appointment", {"patient": f"Patient/{mia.pk}", "date": "ge2026-11-24"}).json()
    assert [entry["resource"]["id"] for entry in found["entry"]] == [str(later.pk)]
    response = client.get(f"/fhir/Appointment/{group.pk}")
    assert response.status_code == 200
    appointment = valid(response.json())
    actors = {p["actor"]["reference"] for p in appointment["participant"]}
    assert actors == {f"Patient/{mia.pk}", f"Practitioner/{world.carla.pk}"}
    assert appointment["minutesDuration"] == 180 and appointment["status"] == "booked"
    assert client.get("/fhir/Appointment", {"patient": world.pat.pk}).json()["total"] == 0
    pat_only = Session.objects.create(
        program=world.harborview, kind=SessionKind.INDIVIDUAL, starts_at=start, ends_at=start + timedelta(hours=1)
    )
    SessionAttendee.objects.create(session=pat_only, patient=world.pat)
    assert client.get(f"/fhir/Appointment/{pat_only.pk}").status_code == 404
    team = valid(client.get(f"/fhir/CareTeam/{mia.pk}").json())
    assert team["participant"][0]["member"]["reference"] == f"Practitioner/{world.carla.pk}"
    carla = valid(client.get(f"/fhir/Practitioner/{world.carla.pk}").json())
    assert carla["identifier"][0]["value"] == "carla"
    assert client.get(f"/fhir/Practitioner/{world.oscar.pk}").status_code == 404  # another program
    assert client.get(f"/fhir/Practitioner/{world.pat_user.pk}").status_code == 404  # not staff


def _export(client: Client, params: str = "") -> str:
    response = client.get(f"/fhir/$export{params}", HTTP_PREFER="respond-async")
    assert response.status_code == 202, response.content
    return response["Content-Location"].split("/fhir/", 1)[1]


def test_bulk_export_is_asynchronous_withholds_part2_and_is_audited(world: World, mia: Patient) -> None:
    token = token_for(world)
    client = api(token)
    assert client.get("/fhir/$export").status_code == 400  # no Prefer: respond-async
    assert client.get("/fhir/$export?_type=Nonsense", HTTP_PREFER="respond-async").status_code == 404
    assert client.get("/fhir/$export?_since=yesterday", HTTP_PREFER="respond-async").status_code == 400
    status_path = _export(client, "?_type=Patient,CareTeam")
    pending = client.get(f"/fhir/{status_path}")
    assert pending.status_code == 202 and pending["X-Progress"].startswith("0%")
    other = api(services.create_client(world.dora, name="Other", scopes=["system/*.read"]).token)
    assert other.get(f"/fhir/{status_path}").status_code == 404  # another integration's export

    call_command("run_exports")
    manifest = client.get(f"/fhir/{status_path}")
    assert manifest.status_code == 200
    outputs = {out["type"]: out for out in manifest.json()["output"]}
    assert outputs["Patient"]["count"] == 1 and outputs["CareTeam"]["count"] == 1
    file_path = outputs["Patient"]["url"].split("/fhir/", 1)[1]
    lines = b"".join(client.get(f"/fhir/{file_path}").streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert [valid(json.loads(line))["id"] for line in lines] == [str(mia.pk)]
    assert Client().get(f"/fhir/{file_path}").status_code == 401
    job = ExportJob.objects.get()
    assert AuditEntry.objects.filter(actor_role="api", patient=mia, detail__export=job.pk).count() == 1
    assert not AuditEntry.objects.filter(actor_role="api", patient=world.pat).exists()
    # Deleting the export removes its files; the status then answers 404.
    assert client.delete(f"/fhir/{status_path}").status_code == 202
    assert client.get(f"/fhir/{status_path}").status_code == 404
    assert not services.export_dir(job).exists()


@pytest.mark.django_db(transaction=True)
def test_bulk_export_runs_in_the_background_with_progress(world: World, mia: Patient, settings) -> None:
    settings.FHIR_EXPORT_IN_BACKGROUND = True
    client = api(token_for(world))
    status_path = _export(client)  # every type the integration may read
    deadline = time.monotonic() + 20
    while (response := client.get(f"/fhir/{status_path}")).status_code == 202 and time.monotonic() < deadline:
        assert "X-Progress" in response
        time.sleep(0.1)
    assert response.status_code == 200
    assert {out["type"] for out in response.json()["output"]} == set(resource_types())
    assert ExportJob.objects.get().status == ExportStatus.COMPLETE


def test_measures_and_plans_are_served_and_part2_patients_stay_out(world: World, mia: Patient) -> None:
    from openiop.measures import services as measures
    from openiop.treatment.models import Goal, TreatmentPlan

    phq9 = measures.builtin_questionnaire("phq9")
    options = phq9.parsed().by_link_id()
    answers = {str(n): options[str(n)].options[1] for n in range(1, 9)} | {"9": options["9"].options[0]}
    mine = measures.submit_response(questionnaire=phq9, patient=mia, actor=world.carla, answers=answers)
    withheld = measures.submit_response(questionnaire=phq9, patient=world.pat, actor=world.carla, answers=answers)
    plan = TreatmentPlan.objects.create(
        enrollment=mia.enrollments.get(), version=1, problems="Low mood", created_by=world.carla
    )
    goal = Goal.objects.create(
        plan=plan, description="Sleep 7 hours", target_date=date(2027, 1, 15), measured_by="diary"
    )
    client = api(token_for(world))

    response = valid(client.get(f"/fhir/QuestionnaireResponse/{mine.pk}").json())
    assert response["subject"]["reference"] == f"Patient/{mia.pk}" and response["status"] == "completed"
    assert client.get(f"/fhir/QuestionnaireResponse/{withheld.pk}").status_code == 404  # Part 2
    observations = client.get("/fhir/Observation", {"patient": mia.pk}).json()
    totals = [valid(entry["resource"]) for entry in observations["entry"]]
    assert any(obs.get("valueInteger") == 8 for obs in totals)
    assert all(obs["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{mine.pk}"}] for obs in totals)
    assert client.get("/fhir/Observation", {"patient": world.pat.pk}).json()["total"] == 0
    questionnaire = valid(client.get(f"/fhir/Questionnaire/{phq9.pk}").json())
    assert questionnaire["id"] == str(phq9.pk) and questionnaire["item"]
    careplan = valid(client.get(f"/fhir/CarePlan/{plan.pk}").json())
    assert careplan["subject"]["reference"] == f"Patient/{mia.pk}"
    assert valid(client.get(f"/fhir/Goal/{goal.pk}").json())["description"]["text"] == "Sleep 7 hours"
    assert client.get("/fhir/CarePlan", {"patient": f"Patient/{mia.pk}"}).json()["total"] == 1
    statement = client.get("/fhir/metadata").json()
    served = {entry["type"] for entry in statement["rest"][0]["resource"]}
    assert {"Questionnaire", "QuestionnaireResponse", "Observation", "CarePlan", "Goal", "Consent"} <= served


# --- Encounter: one patient's part in one session ---------------------------------------------------------------


def _session(world: World, kind: str, start: datetime, hours: int = 1, **extra: Any) -> Session:
    session = Session.objects.create(
        program=world.harborview, kind=kind, starts_at=start, ends_at=start + timedelta(hours=hours), **extra
    )
    session.clinicians.add(world.carla)
    return session


def test_encounters_from_sessions_and_attendance(world: World, mia: Patient) -> None:
    from openiop.accounts.models import Role
    from openiop.rooms import services as rooms
    from openiop.rooms.models import PresenceEvent
    from openiop.scheduling.models import SessionStatus
    from tests.conftest import make_user

    mia.user = make_user("mia", Role.PATIENT, world.harborview)
    mia.save(update_fields=["user"])
    day = timezone.localdate() - timedelta(days=5)
    start = timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=18)))
    group = _session(world, SessionKind.GROUP, start, hours=3)
    for patient in (mia, world.pat):  # Pat: substance-use track, no consent: never an Encounter that leaves
        SessionAttendee.objects.create(session=group, patient=patient)
    # Mia joins 10 minutes late and leaves 10 minutes early; Pat never comes.
    joined, left = start + timedelta(minutes=10), start + timedelta(hours=2, minutes=50)
    PresenceEvent.objects.create(session=group, user=mia.user, patient=mia, kind="join", at=joined)
    PresenceEvent.objects.create(session=group, user=mia.user, patient=mia, kind="leave", at=left)
    rooms.compute_attendance(group, finished_at=start + timedelta(hours=3), actor=None)
    Session.objects.filter(pk=group.pk).update(status=SessionStatus.COMPLETED)
    missed = _session(world, SessionKind.INDIVIDUAL, start + timedelta(days=1))
    SessionAttendee.objects.create(session=missed, patient=mia)
    rooms.compute_attendance(missed, finished_at=missed.ends_at, actor=None)  # no presence: absent
    called_off = _session(world, SessionKind.FAMILY, start + timedelta(days=2), status=SessionStatus.CANCELLED)
    SessionAttendee.objects.create(session=called_off, patient=mia)
    upcoming = _session(world, SessionKind.INDIVIDUAL, start + timedelta(days=8))
    SessionAttendee.objects.create(session=upcoming, patient=mia)
    other = _session(world, SessionKind.INDIVIDUAL, start + timedelta(days=8))
    SessionAttendee.objects.create(session=other, patient=world.quinn)  # Part 2 too

    token = token_for(world, ["system/Encounter.read", "system/Appointment.read"])
    client = api(token)
    found = client.get("/fhir/Encounter", {"patient": f"Patient/{mia.pk}"}).json()
    encounters = {
        entry["resource"]["appointment"][0]["reference"]: valid(entry["resource"]) for entry in found["entry"]
    }
    assert found["total"] == 4 and all(e["subject"]["reference"] == f"Patient/{mia.pk}" for e in encounters.values())
    attended = encounters[f"Appointment/{group.pk}"]
    assert attended["status"] == "finished"
    assert attended["class"] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "VR",
        "display": "virtual",
    }
    assert attended["serviceType"]["text"] == "Group psychotherapy"
    assert attended["participant"][0]["individual"]["reference"] == f"Practitioner/{world.carla.pk}"
    assert attended["length"] == {"value": 160, "unit": "min", "system": "http://unitsofmeasure.org", "code": "min"}
    assert datetime.fromisoformat(attended["period"]["start"]) == joined
    assert datetime.fromisoformat(attended["period"]["end"]) == left
    absent = encounters[f"Appointment/{missed.pk}"]
    assert absent["status"] == "cancelled" and "length" not in absent
    assert encounters[f"Appointment/{called_off.pk}"]["status"] == "cancelled"
    assert encounters[f"Appointment/{called_off.pk}"]["type"][0]["text"] == "Family psychotherapy"
    planned = encounters[f"Appointment/{upcoming.pk}"]
    assert planned["status"] == "planned" and datetime.fromisoformat(planned["period"]["start"]) == upcoming.starts_at
    # The appointment reference is the Appointment the API serves for that session.
    appointment = valid(client.get(f"/fhir/{attended['appointment'][0]['reference']}").json())
    assert appointment["id"] == str(group.pk)

    # Search by date (same prefixes as elsewhere), by _id, paging; Part 2 patients stay out.
    assert client.get("/fhir/Encounter", {"date": day.isoformat()}).json()["total"] == 1
    later = client.get("/fhir/Encounter", {"date": f"gt{day.isoformat()}", "patient": str(mia.pk)}).json()
    assert {e["resource"]["appointment"][0]["reference"] for e in later["entry"]} == {
        f"Appointment/{s.pk}" for s in (missed, called_off, upcoming)
    }
    assert client.get("/fhir/Encounter", {"date": f"lt{day.isoformat()}"}).json()["total"] == 0
    assert client.get("/fhir/Encounter", {"_id": attended["id"]}).json()["total"] == 1
    page = client.get("/fhir/Encounter", {"_count": "3"}).json()
    assert page["total"] == 4 and len(page["entry"]) == 3 and any(link["relation"] == "next" for link in page["link"])
    assert client.get("/fhir/Encounter", {"patient": world.pat.pk}).json()["total"] == 0
    pat_encounter = SessionAttendee.objects.get(session=group, patient=world.pat)
    assert client.get(f"/fhir/Encounter/{pat_encounter.pk}").status_code == 404
    for bad in ({"status": "finished"}, {"date": "2026-13-40"}, {"patient": "Group/1"}):
        response = client.get("/fhir/Encounter", bad)
        assert response.status_code == 400 and valid(response.json())["resourceType"] == "OperationOutcome"

    # Every Encounter read is audited against its patient.
    reads = AuditEntry.objects.filter(actor_role="api", record_type="fhir:Encounter", record_id=attended["id"])
    assert reads.filter(patient=mia).exists()
    assert not AuditEntry.objects.filter(actor_role="api", record_type="fhir:Encounter", patient=world.pat)

    # A key without the Encounter scope gets 403; the CapabilityStatement lists Encounter and its parameters.
    refused = api(token_for(world, ["system/Patient.read"])).get("/fhir/Encounter")
    assert refused.status_code == 403 and refused.json()["issue"][0]["code"] == "forbidden"
    statement = Client().get("/fhir/metadata").json()
    encounter = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Encounter")
    assert {(p["name"], p["type"]) for p in encounter["searchParam"]} >= {("patient", "reference"), ("date", "date")}


def test_encounters_in_the_bulk_export(world: World, mia: Patient) -> None:
    start = timezone.now() - timedelta(days=2)
    session = _session(world, SessionKind.INDIVIDUAL, start)
    mine = SessionAttendee.objects.create(session=session, patient=mia)
    pats = _session(world, SessionKind.INDIVIDUAL, start)
    SessionAttendee.objects.create(session=pats, patient=world.pat)
    client = api(token_for(world, ["system/Encounter.read"]))
    status_path = _export(client)
    call_command("run_exports")
    output = client.get(f"/fhir/{status_path}").json()["output"]
    assert [(out["type"], out["count"]) for out in output] == [("Encounter", 1)]
    file_path = output[0]["url"].split("/fhir/", 1)[1]
    lines = b"".join(client.get(f"/fhir/{file_path}").streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    encounter = valid(json.loads(lines[0]))
    assert encounter["id"] == str(mine.pk) and encounter["status"] == "unknown"  # held, no attendance recorded
    # _since: an Encounter counts as changed when its session is made or its attendance is recorded.
    since = (timezone.now() + timedelta(minutes=1)).isoformat()
    later_path = _export(client, f"?_since={since.replace('+', '%2B')}")
    call_command("run_exports")
    assert client.get(f"/fhir/{later_path}").json()["output"] == [{"type": "Encounter", "url": ANY, "count": 0}]
    from openiop.rooms.models import Attendance

    Attendance.objects.create(
        session=session, patient=mia, status="attended", computed_status="attended", seconds_present=3600,
        computed_at=timezone.now() + timedelta(minutes=2),
    )  # fmt: skip
    again_path = _export(client, f"?_since={since.replace('+', '%2B')}")
    call_command("run_exports")
    assert client.get(f"/fhir/{again_path}").json()["output"][0]["count"] == 1


def test_encounter_search_query_count_does_not_grow_with_the_page(world: World, mia: Patient) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(token_for(world, ["system/Encounter.read"]))
    start = timezone.now() - timedelta(days=30)

    def queries_for(sessions: int) -> int:
        for day in range(sessions):
            session = _session(world, SessionKind.INDIVIDUAL, start + timedelta(days=day))
            SessionAttendee.objects.create(session=session, patient=mia)
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get("/fhir/Encounter", {"_count": "100"}).json()["entry"]) == Session.objects.count()
        return len(captured)

    assert queries_for(2) == queries_for(10)
