"""The FHIR R4 API: bearer-token integrations with scopes, read and search, Bulk Data $export,
Part 2 records withheld, every access audited, every resource valid R4 (checked with fhir.resources)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from openiop.audit.models import AuditEntry
from openiop.fhirapi import services
from openiop.fhirapi.models import ApiClient, ExportJob, ExportStatus
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
    response = dora.post(reverse("fhirapi:integrations"), {"name": "State feed", "scopes": ["system/Patient.read"]})
    assert response.status_code == 200
    client = ApiClient.objects.get(name="State feed")
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
    assert {out["type"] for out in response.json()["output"]} == {
        "Appointment",
        "CareTeam",
        "Consent",
        "Patient",
        "Practitioner",
    }
    assert ExportJob.objects.get().status == ExportStatus.COMPLETE
