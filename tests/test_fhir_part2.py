"""42 CFR Part 2 in the FHIR API: a substance-use patient's records leave only for an integration their
signed, active, unexpired Part 2 consent names for its purposes, and each such disclosure carries the
redisclosure notice.

People (beside the `world` personas):
  Sam Okafor  substance-use patient; at intake he names the Commonwealth HIE (integration "hie", treatment)
              but not MassHealth (integration "claims", payment) on his Part 2 consent
  Mia         mental-health patient: never covered by Part 2, visible to both integrations, no label
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from openiop.audit.models import AuditEntry
from openiop.core.errors import ServiceError
from openiop.fhirapi import part2
from openiop.fhirapi import services as fhir_services
from openiop.fhirapi.models import ApiClient
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, Patient
from openiop.referrals import services
from openiop.referrals.consent_texts import REDISCLOSURE_NOTICE
from openiop.referrals.models import Part2Recipient, Referral, SignedConsent
from openiop.scheduling.models import Focus, Population, Session, SessionAttendee, SessionKind, Track
from tests.conftest import World, enroll, make_patient
from tests.test_referrals import make_consented

PART2_CODE = ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "42CFRPart2")
HIE = "Commonwealth Health Information Exchange"


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def labelled(resource: dict[str, Any]) -> bool:
    """Carries the Part 2 security label and the redisclosure notice a person can read."""
    codes = {(coding["system"], coding["code"]) for coding in resource.get("meta", {}).get("security", [])}
    has_label = PART2_CODE in codes and ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "NORDSCLCD") in codes
    has_notice = "Federal law prohibits any further disclosure" in resource.get("text", {}).get("div", "")
    assert has_label == has_notice, resource  # never one without the other
    return has_label


@dataclass
class Integration:
    client: ApiClient
    token: str

    @property
    def api(self) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.token}")


@dataclass
class Part2World:
    world: World
    hie: Integration
    claims: Integration
    sam: Patient
    consent: SignedConsent
    mia: Patient
    group: Session


def create_integration(director: Client, name: str, organization: str, purposes: list[str]) -> Integration:
    response = director.post(
        reverse("fhirapi:integrations"),
        {
            "name": name,
            "scopes": ["system/*.read"],
            "recipient_name": organization,
            "purposes": purposes,
            "receives_part2": "on",
        },
    )
    assert response.status_code == 200, response.content.decode()
    return Integration(ApiClient.objects.get(name=name), response.context["token"])


def consent_page_hashes(page: str) -> dict[str, str]:
    return {
        f"sha256-{kind}": value
        for kind, value in re.findall(r'name="sha256-([a-z\-0-9]+)" value="([0-9a-f]{64})"', page)
    }


def sign_naming(referral: Referral, token: str, clients: list[ApiClient]) -> None:
    """Sam signs on the consent page, naming `clients`: the first post shows the Part 2 text filled in with
    his choice, the second signs it."""
    public = Client()
    url = reverse("referrals:consent", args=[token])
    page = public.get(url).content.decode()
    chosen = {"typed_name": referral.full_name, "part2_recipients": [str(client.pk) for client in clients]}
    first = public.post(url, consent_page_hashes(page) | chosen)
    assert first.status_code == 400 and not SignedConsent.objects.filter(referral=referral).exists()
    assert "filled in with the organizations you chose" in first.content.decode()
    done = public.post(url, consent_page_hashes(first.content.decode()) | chosen)
    assert done.status_code == 200, done.content.decode()


@pytest.fixture
def p2(world: World, client_for) -> Part2World:
    dora = client_for(world.dora)
    hie = create_integration(dora, "HIE feed", HIE, ["TREAT"])
    claims = create_integration(dora, "Claims", "MassHealth", ["HPAYMT"])
    referral, token = make_consented(world)
    sign_naming(referral, token, [hie.client])
    sam = services.enroll(
        world.ivan, referral, track=world.track, start_date=None,
        emergency_contact_name="Ada Okafor", emergency_contact_phone="617-555-0150",
        emergency_contact_relationship="wife",
    ).patient  # fmt: skip
    mental_health = Track.objects.create(
        program=world.harborview, name="Adult MH", slug="mh", population=Population.ADULT, focus=Focus.MENTAL_HEALTH
    )
    mia = make_patient(world.harborview, "H-9", None, "Mia")
    enroll(mia, mental_health)
    CareTeamMember.objects.create(patient=mia, clinician=world.carla, is_primary=True)
    start = timezone.now() - timedelta(days=1)
    group = Session.objects.create(
        program=world.harborview, kind=SessionKind.GROUP, starts_at=start, ends_at=start + timedelta(hours=3)
    )
    group.clinicians.add(world.carla)
    for patient in (sam, mia):
        SessionAttendee.objects.create(session=group, patient=patient)
    consent = SignedConsent.objects.get(patient=sam, document__kind="part2")
    return Part2World(world, hie, claims, sam, consent, mia, group)


def ids(bundle: dict[str, Any]) -> set[str]:
    return {entry["resource"]["id"] for entry in bundle.get("entry", [])}


def export_lines(integration: Integration, resource_type: str) -> list[dict[str, Any]]:
    api = integration.api
    response = api.get(f"/fhir/$export?_type={resource_type}", HTTP_PREFER="respond-async")
    assert response.status_code == 202
    call_command("run_exports")
    manifest = api.get("/fhir/" + response["Content-Location"].split("/fhir/", 1)[1]).json()
    url = manifest["output"][0]["url"].split("/fhir/", 1)[1]
    body = b"".join(api.get(f"/fhir/{url}").streaming_content).decode()  # type: ignore[attr-defined]
    return [valid(json.loads(line)) for line in body.splitlines()]


def test_the_consent_names_the_integrations_the_person_chose(p2: Part2World) -> None:
    text = p2.consent.shown_text
    assert (
        "With whom: my care team at Harborview and my health insurer; "
        f"and also, only for the purposes shown: {HIE} (for treatment)." in text
    )
    assert "MassHealth" not in text and REDISCLOSURE_NOTICE in text
    named = Part2Recipient.objects.get(consent=p2.consent)
    assert (named.client, named.name, named.purposes) == (p2.hie.client, HIE, ["TREAT"])
    assert AuditEntry.objects.get(record_type="referrals.signedconsent", record_id=str(p2.consent.pk)).detail[
        "recipients"
    ] == [HIE]
    # The FHIR Consent says so too: a nested permit for the HIE, for treatment only.
    consent = valid(p2.hie.api.get(f"/fhir/Consent/{p2.consent.pk}").json())
    nested = consent["provision"]["provision"]
    assert [(p["actor"][0]["reference"]["display"], [c["code"] for c in p["purpose"]]) for p in nested] == [
        (HIE, ["TREAT"])
    ]
    assert labelled(consent)


def test_the_consent_page_offers_only_this_programs_part2_integrations(world: World, client_for) -> None:
    dora = client_for(world.dora)
    offered = create_integration(dora, "HIE feed", HIE, ["TREAT"])
    quiet = dora.post(
        reverse("fhirapi:integrations"),
        {
            "name": "Reporting",
            "scopes": ["system/Patient.read"],
            "recipient_name": "State DPH",
            "purposes": ["HOPERAT"],
        },
    )
    assert quiet.status_code == 200
    elsewhere = create_integration(client_for(world.otto), "Their HIE", "Elsewhere Exchange", ["TREAT"])
    referral, token = make_consented(world)
    url = reverse("referrals:consent", args=[token])
    page = Client().get(url).content.decode()
    assert HIE in page and "State DPH" not in page and "Elsewhere Exchange" not in page
    hashes = consent_page_hashes(page)
    for tampered in (ApiClient.objects.get(name="Reporting").pk, elsewhere.client.pk, 987654):
        response = Client().post(url, hashes | {"typed_name": "Sam Okafor", "part2_recipients": [str(tampered)]})
        assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not SignedConsent.objects.exists()
    # An integration revoked between reading and signing cannot be named.
    fhir_services.revoke_client(world.dora, offered.client)
    with pytest.raises(services.ServiceError, match="can no longer receive"):
        services.sign_consents(
            token, typed_name="Sam Okafor", shown_hashes={}, counseling_notes=False, family=None,
            client_address="", part2_recipients=[offered.client.pk],
        )  # fmt: skip
    # Naming nobody signs the wording as before: the care team and the insurer only.
    Client().post(url, hashes | {"typed_name": "Sam Okafor"})
    consent = SignedConsent.objects.get(referral=referral, document__kind="part2")
    assert "With whom: my care team at Harborview and my health insurer.\n" in consent.shown_text
    assert not Part2Recipient.objects.exists()


def test_the_named_integration_sees_him_the_other_does_not(p2: Part2World) -> None:
    sam, mia = str(p2.sam.pk), str(p2.mia.pk)
    hie, claims = p2.hie.api, p2.claims.api

    # Read
    record = valid(hie.get(f"/fhir/Patient/{sam}").json())
    assert record["name"][0]["family"] == "Okafor" and labelled(record)
    assert REDISCLOSURE_NOTICE.split(".")[0] in record["text"]["div"]
    missing = claims.get("/fhir/Patient/987654321")
    refused = claims.get(f"/fhir/Patient/{sam}")
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["issue"][0]["code"] == missing.json()["issue"][0]["code"] == "not-found"
    assert not labelled(valid(claims.get(f"/fhir/Patient/{mia}").json()))
    assert not labelled(valid(hie.get(f"/fhir/Patient/{mia}").json()))

    # Search: the Bundle and each Part 2 entry are labelled
    bundle = valid(hie.get("/fhir/Patient").json())
    assert ids(bundle) == {sam, mia}
    assert {entry["resource"]["id"]: labelled(entry["resource"]) for entry in bundle["entry"]} == {
        sam: True,
        mia: False,
    }
    assert PART2_CODE in {(c["system"], c["code"]) for c in bundle["meta"]["security"]}
    assert ids(claims.get("/fhir/Patient").json()) == {mia}
    assert "meta" not in claims.get("/fhir/Patient").json()
    encounters = hie.get("/fhir/Encounter", {"patient": sam}).json()["entry"]
    assert len(encounters) == 1 and labelled(valid(encounters[0]["resource"]))
    assert claims.get("/fhir/Encounter", {"patient": sam}).json()["total"] == 0
    assert ids(claims.get("/fhir/Encounter").json()) == {str(SessionAttendee.objects.get(patient=p2.mia).pk)}
    # The group session: the HIE sees both members (Part 2 data: labelled); MassHealth sees only Mia.
    group_for_hie = valid(hie.get(f"/fhir/Appointment/{p2.group.pk}").json())
    assert f"Patient/{sam}" in {p["actor"]["reference"] for p in group_for_hie["participant"]}
    assert labelled(group_for_hie)
    group_for_claims = valid(claims.get(f"/fhir/Appointment/{p2.group.pk}").json())
    assert f"Patient/{sam}" not in {p["actor"]["reference"] for p in group_for_claims["participant"]}
    assert not labelled(group_for_claims)

    # $export: every NDJSON line about Sam is labelled; MassHealth's files do not have him
    lines = export_lines(p2.hie, "Patient")
    assert {line["id"]: labelled(line) for line in lines} == {sam: True, mia: False}
    assert [line["id"] for line in export_lines(p2.claims, "Patient")] == [mia]
    assert all(
        labelled(line) for line in export_lines(p2.hie, "Encounter") if line["subject"]["reference"] == f"Patient/{sam}"
    )

    # The audit log names the consent behind each Part 2 disclosure, and MassHealth never read him.
    disclosures = AuditEntry.objects.filter(actor_role="api", patient=p2.sam)
    assert disclosures.exists()
    assert {entry.actor_username for entry in disclosures} == {f"api:{p2.hie.client.client_id}"}
    assert all(entry.detail["part2_consents"] == [p2.consent.pk] for entry in disclosures)
    assert all(entry.detail["recipient"] == HIE for entry in disclosures)


def test_revocation_takes_effect_on_the_next_request(p2: Part2World, client_for) -> None:
    hie = p2.hie.api
    assert hie.get(f"/fhir/Patient/{p2.sam.pk}").status_code == 200
    assert p2.sam.user is not None
    own = client_for(p2.sam.user)
    response = own.post(reverse("referrals:revoke", args=[p2.consent.pk]), {"reason": "I no longer agree"})
    assert response.status_code == 302
    assert hie.get(f"/fhir/Patient/{p2.sam.pk}").status_code == 404
    assert ids(hie.get("/fhir/Patient").json()) == {str(p2.mia.pk)}
    assert hie.get("/fhir/Encounter", {"patient": p2.sam.pk}).json()["total"] == 0
    assert [line["id"] for line in export_lines(p2.hie, "Patient")] == [str(p2.mia.pk)]


def test_an_expired_consent_withholds(p2: Part2World) -> None:
    hie, sam = p2.hie.api, f"/fhir/Patient/{p2.sam.pk}"
    today = timezone.localdate()
    # "On a date": good through that day, withheld after it.
    SignedConsent.objects.filter(pk=p2.consent.pk).update(expiry=SignedConsent.Expiry.DATE, expires_on=today)
    assert hie.get(sam).status_code == 200
    SignedConsent.objects.filter(pk=p2.consent.pk).update(expires_on=today - timedelta(days=1))
    assert hie.get(sam).status_code == 404
    SignedConsent.objects.filter(pk=p2.consent.pk).update(expires_on=None)  # a date that was never set: doubt
    assert hie.get(sam).status_code == 404
    # "At the end of treatment" (the wording he signed): withheld once his enrollment is finished.
    SignedConsent.objects.filter(pk=p2.consent.pk).update(expiry=SignedConsent.Expiry.END_OF_TREATMENT)
    assert hie.get(sam).status_code == 200
    Enrollment.objects.filter(patient=p2.sam).update(status=EnrollmentStatus.FINISHED, end_date=today)
    assert hie.get(sam).status_code == 404
    assert p2.sam.pk in part2.withheld_patient_ids(p2.world.harborview, p2.hie.client)


def test_any_doubt_about_the_recipient_withholds(p2: Part2World) -> None:
    program, client = p2.world.harborview, p2.hie.client
    assert p2.sam.pk not in part2.withheld_patient_ids(program, client)
    # It now also wants the records for payment, which he did not consent to.
    ApiClient.objects.filter(pk=client.pk).update(purposes=["HPAYMT", "TREAT"])
    client.refresh_from_db()
    assert p2.sam.pk in part2.withheld_patient_ids(program, client)
    # Another organization behind the same integration is not the one he named.
    ApiClient.objects.filter(pk=client.pk).update(purposes=["TREAT"], recipient_name="Acme Data Brokers")
    client.refresh_from_db()
    assert p2.sam.pk in part2.withheld_patient_ids(program, client)
    # No longer offered for Part 2.
    ApiClient.objects.filter(pk=client.pk).update(recipient_name=HIE, receives_part2=False)
    client.refresh_from_db()
    assert p2.sam.pk in part2.withheld_patient_ids(program, client)
    ApiClient.objects.filter(pk=client.pk).update(receives_part2=True)
    client.refresh_from_db()
    assert p2.sam.pk not in part2.withheld_patient_ids(program, client)
    # Patients never in a Part 2 track are never withheld; Pat and Quinn (substance use, no consent) are.
    withheld = part2.withheld_patient_ids(program, p2.claims.client)
    assert p2.mia.pk not in withheld and {p2.sam.pk, p2.world.pat.pk, p2.world.quinn.pk} <= withheld


def test_integrations_page_sets_and_checks_the_recipient_identity(world: World, client_for) -> None:
    dora = client_for(world.dora)
    url = reverse("fhirapi:integrations")
    good = {"name": "HIE feed", "scopes": ["system/*.read"], "recipient_name": HIE, "purposes": ["TREAT"]}
    for bad, message in (
        ({"recipient_name": ""}, "This field is required"),
        ({"recipient_name": "<b>x</b>"}, "ordinary punctuation"),
        ({"purposes": []}, "This field is required"),
        ({"purposes": ["SELL"]}, "Select a valid choice"),
    ):
        response = dora.post(url, good | bad)
        assert response.status_code == 400 and message in response.content.decode(), bad
    assert not ApiClient.objects.exists()
    created = dora.post(url, good | {"receives_part2": "on"})
    assert created.status_code == 200
    page = created.content.decode()
    assert HIE in page and "offered on the consent" in page
    audit = AuditEntry.objects.get(record_type="fhirapi.apiclient", action="create")
    assert audit.detail["recipient"] == HIE and audit.detail["receives_part2"] is True
    # A second Part 2 integration under the same name would be ambiguous on the consent form.
    twin = dora.post(url, good | {"name": "HIE feed 2", "recipient_name": HIE.upper(), "receives_part2": "on"})
    assert twin.status_code == 400 and "already receives Part 2 records" in twin.content.decode()
    assert ApiClient.objects.count() == 1
    with pytest.raises(ServiceError):
        fhir_services.create_client(world.dora, name="x", scopes=["system/*.read"], receives_part2=True)
