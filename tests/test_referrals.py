"""Intake from the public form to an enrolled patient, through HTTP and the
services, with the named personas (Ivan runs intake, Carla decides)."""

from __future__ import annotations

import base64
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import Invitation, Role
from openiop.audit.models import AuditEntry
from openiop.intake.models import Enrollment, FamilyAccess, Patient
from openiop.referrals import level_of_care as loc
from openiop.referrals import services
from openiop.referrals.models import Recommendation, Referral, ReferralEvent, Screening, SignedConsent, Source, Status
from openiop.safety.models import SafetyAlert
from tests.conftest import World


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def form_data(client: Client, world: World, **overrides: Any) -> dict[str, Any]:
    page = client.get(reverse("referrals:refer", args=[world.harborview.slug]))
    token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode())
    assert token, "the form carries a one-time token"
    data: dict[str, Any] = {
        "form_token": token.group(1),
        "website": "",
        "given_name": "Dana",
        "family_name": "Rivera",
        "date_of_birth": "1991-03-04",
        "email": "dana@example.org",
        "phone": "617-555-0100",
        "preferred_language": "English",
        "concerns": "Drinking every night since the layoff; want to stop.",
        "concern_substance_use": "on",
        "insurance": "MassHealth",
        "attendance": "virtual",
        "availability": ["mon-evening", "tue-evening", "thu-evening", "fri-morning"],
    }
    data.update(overrides)
    return data


def assert_urgent_alert(referral: Referral, world: World) -> None:
    """The urgent task: an open safety alert that names the referral, reaches
    the intake coordinator (and the director) by email, and flags the board."""
    alert = SafetyAlert.objects.get(source="referral", status="open")
    assert referral.reference in alert.about and alert.link.endswith(f"/intake/referrals/{referral.pk}/")
    assert world.ivan in alert.notified.all()
    assert world.ivan.email in {m.to[0] for m in mail.outbox}
    assert world.otto.email not in {m.to[0] for m in mail.outbox}  # nobody outside the program


SCREENING = {
    "focus": "substance-use",
    "withdrawal": 1,
    "biomedical": 0,
    "emotional": 1,
    "readiness": 2,
    "relapse": 3,
    "environment": 2,
    "hours_per_week": 12,
    "days_per_week": 4,
    "notes": "",
}


def test_public_referral_gets_a_reference_and_next_steps(world: World) -> None:
    client = Client()
    page = client.get(reverse("referrals:refer", args=[world.harborview.slug]))
    assert page.status_code == 200
    assert "988" in page.content.decode() and "833-773-2445" in page.content.decode()
    response = client.post(reverse("referrals:refer", args=[world.harborview.slug]), form_data(client, world))
    assert response.status_code == 302
    done = client.get(response["Location"])
    referral = Referral.objects.get()
    assert referral.reference in done.content.decode()
    assert "What happens next" in done.content.decode() and "988" in done.content.decode()
    assert referral.status == Status.NEW and referral.source == Source.SELF
    assert referral.availability == ["mon-evening", "tue-evening", "thu-evening", "fri-morning"]
    assert ReferralEvent.objects.filter(referral=referral, to_status=Status.NEW).exists()
    assert AuditEntry.objects.filter(record_type="referrals.referral", action="create", actor=None).exists()


def test_danger_on_the_public_form_shows_crisis_help_and_raises_an_urgent_task(
    world: World, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("referrals:refer", args=[world.harborview.slug]),
            form_data(client, world, danger_now="on"),
            follow=True,
        )
    body = response.content.decode()
    assert "Please get help now" in body and 'href="tel:988"' in body
    referral = Referral.objects.get()
    assert referral.needs_urgent_attention
    assert AuditEntry.objects.filter(record_id=str(referral.pk), flagged=True).exists()
    assert_urgent_alert(referral, world)
    assert all("Drinking" not in str(m.body) for m in mail.outbox)  # no clinical details in email


def test_full_path_through_http(world: World, client_for, settings, django_capture_on_commit_callbacks) -> None:
    public = Client()
    public.post(reverse("referrals:refer", args=[world.harborview.slug]), form_data(public, world))
    referral = Referral.objects.get()
    ivan = client_for(world.ivan)
    board = ivan.get(reverse("referrals:board"))
    assert referral.reference in board.content.decode() and "Screen" in board.content.decode()

    response = ivan.post(reverse("referrals:screen", args=[referral.pk]), SCREENING)
    assert response.status_code == 302
    recommendation = Recommendation.objects.get()
    assert (recommendation.level, recommendation.track) == (loc.IOP, loc.TRACK_SUBSTANCE_USE)
    # Ivan cannot decide; Carla (a clinician) can.
    assert ivan.post(reverse("referrals:decide", args=[referral.pk]), {"decision": "confirm"}).status_code == 404
    carla = client_for(world.carla)
    assert carla.post(reverse("referrals:decide", args=[referral.pk]), {"decision": "confirm"}).status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.decision == "confirmed" and recommendation.decided_by == world.carla

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert ivan.post(reverse("referrals:send_consent", args=[referral.pk])).status_code == 302
    link = re.search(r"http://\S+/consent/(\S+)/", str(mail.outbox[0].body))
    assert link and mail.outbox[0].to == ["dana@example.org"]
    url = reverse("referrals:consent", args=[link.group(1)])
    page = public.get(url).content.decode()
    assert "42 CFR Part 2" in page and "Federal law prohibits any further disclosure" in page
    hashes = dict(re.findall(r'name="sha256-([a-z\-0-9]+)" value="([0-9a-f]{64})"', page))
    assert set(hashes) == {"treatment", "telehealth", "part2", "counseling-notes"}
    sign = {f"sha256-{k}": v for k, v in hashes.items()} | {
        "typed_name": "Dana Rivera",
        "add_family": "on",
        "family_given_name": "Luis",
        "family_family_name": "Rivera",
        "family_email": "luis@example.org",
        "family_relationship": "brother",
        "may_see_family_sessions": "on",
    }
    # First post with family: shown the filled-in family consent, nothing signed.
    first = public.post(url, sign)
    assert first.status_code == 400 and "Luis Rivera (brother)" in first.content.decode()
    assert not SignedConsent.objects.exists()
    family_hash = re.search(r'name="sha256-family-access" value="([0-9a-f]{64})"', first.content.decode())
    assert family_hash
    done = public.post(url, sign | {"sha256-family-access": family_hash.group(1)}, REMOTE_ADDR="203.0.113.9")
    assert done.status_code == 200, done.content.decode()
    kinds = sorted(SignedConsent.objects.values_list("document__kind", flat=True))
    assert kinds == ["family-access", "part2", "telehealth", "treatment"]
    part2 = SignedConsent.objects.get(document__kind="part2")
    assert part2.client_address == "203.0.113.9" and len(part2.text_sha256) == 64
    for element in ("Patient: Dana Rivera", "Who may share: Harborview", "With whom:", "Why:", "revoke", "ends:"):
        assert element in part2.shown_text
    assert public.get(url).status_code == 404  # the link works once

    referral.refresh_from_db()
    assert referral.status == Status.CONSENTED
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = ivan.post(
            reverse("referrals:enroll", args=[referral.pk]),
            {
                "track": world.track.pk,
                "start_date": (timezone.localdate() + timedelta(days=3)).isoformat(),
                "emergency_contact_name": "Luis Rivera",
                "emergency_contact_phone": "617-555-0101",
                "emergency_contact_relationship": "brother",
                "primary_clinician": world.carla.pk,
            },
        )
    assert response.status_code == 302
    patient = Patient.objects.get(referral=referral)
    enrollment = Enrollment.objects.get(patient=patient)
    assert enrollment.level_of_care == loc.IOP and enrollment.status == "planned"
    assert (enrollment.planned_end_date - enrollment.start_date).days == 7 * settings.ENROLLMENT_WEEKS
    assert patient.user is not None and patient.user.role == Role.PATIENT
    assert patient.emergency_contact_name == "Luis Rivera"
    assert not patient.user.has_usable_password()
    assert SignedConsent.objects.filter(patient=patient).count() == 4
    grant = FamilyAccess.objects.get(patient=patient)
    assert grant.consent is not None and grant.consent.document.kind == "family-access"
    assert grant.may_see_family_sessions
    assert sorted(m.to[0] for m in mail.outbox) == ["dana@example.org", "luis@example.org"]
    assert Invitation.objects.filter(user=patient.user).exists()
    # On Carla's caseload from day one, and her chart shows the emergency contact and level of care.
    chart = client_for(world.carla).get(reverse("intake:patient_chart", args=[patient.pk])).content.decode()
    assert "Luis Rivera (brother), 617-555-0101" in chart and ">iop<" in chart
    statuses = list(referral.events.values_list("to_status", flat=True))
    assert statuses == ["new", "screening", "recommended", "consented", "enrolled"]
    assert referral.events.filter(to_status="enrolled", actor=world.ivan).exists()


def make_consented(world: World, **referral: Any) -> tuple[Referral, str]:
    data = {
        "given_name": "Sam",
        "family_name": "Okafor",
        "date_of_birth": date(1981, 1, 2),
        "email": "sam@example.org",
        "concerns": "opioids",
        "concern_substance_use": True,
        "source": Source.CLINICIAN,
        "referrer_name": "Dr Lee",
    } | referral
    made = services.create_staff_referral(world.ivan, data)
    recommendation = services.record_screening(world.ivan, made, SCREENING)
    services.decide(world.carla, recommendation, confirm=True)
    token = services.send_consent_link(world.ivan, made).url.rstrip("/").rsplit("/", 1)[1]
    return made, token


def sign_all(referral: Referral, token: str, family: services.FamilyChoice | None = None) -> None:
    hashes = {}
    for kind in [*services.required_kinds(referral), "family-access"]:
        terms = services.consent_terms(referral, kind, family)
        if kind == "family-access" and family is None:
            continue
        hashes[kind] = services.text_hash(services.shown_text(services.current_document(kind), terms))
    services.sign_consents(
        token, typed_name=referral.full_name, shown_hashes=hashes, counseling_notes=False, family=family,
        client_address="198.51.100.7",
    )  # fmt: skip


def test_revoking_family_consent_removes_access_on_the_next_request(world: World, client_for) -> None:
    referral, token = make_consented(world)
    fay_choice = services.FamilyChoice("Fay", "Testperson", world.fay.email, "sister", True, True)
    sign_all(referral, token, fay_choice)
    enrolled = services.enroll(
        world.ivan, referral, track=world.track, start_date=timezone.localdate(),
        emergency_contact_name="Fay", emergency_contact_phone="617-555-0102", emergency_contact_relationship="sister",
    )  # fmt: skip
    patient = enrolled.patient
    grant = FamilyAccess.objects.get(patient=patient, family_member=world.fay)  # existing account reused
    fay = client_for(world.fay)
    family_url = reverse("intake:family_patient", args=[patient.pk])
    assert fay.get(family_url).status_code == 200

    patient_client = client_for(patient.user)
    consents_page = patient_client.get(reverse("referrals:my_consents")).content.decode()
    assert "Family or support person access" in consents_page
    response = patient_client.post(reverse("referrals:revoke", args=[grant.consent_id]), {"reason": "changed my mind"})
    assert response.status_code == 302
    assert fay.get(family_url).status_code == 404  # the very next request
    assert patient.pk not in [
        g.patient_id for g in FamilyAccess.objects.filter(family_member=world.fay, status="active")
    ]
    consent = SignedConsent.objects.get(pk=grant.consent.pk)  # type: ignore[union-attr]
    assert consent.status == "inactive" and consent.revocation_reason == "changed my mind"
    assert AuditEntry.objects.filter(
        record_type="referrals.signedconsent", actor=patient.user, action="update"
    ).exists()
    # Revoking twice is a clear 400, and a patient cannot revoke someone else's consent.
    again = patient_client.post(reverse("referrals:revoke", args=[grant.consent_id]), {"reason": "again"})
    assert again.status_code == 400
    assert (
        client_for(world.pat_user)
        .post(reverse("referrals:revoke", args=[grant.consent_id]), {"reason": "not mine"})
        .status_code
        == 404
    )


def test_access_check_honours_a_revoked_consent_even_if_the_grant_row_was_missed(world: World, client_for) -> None:
    referral, token = make_consented(world)
    sign_all(referral, token, services.FamilyChoice("Fay", "Testperson", world.fay.email, "sister", True, False))
    patient = services.enroll(
        world.ivan, referral, track=world.track, start_date=None,
        emergency_contact_name="x", emergency_contact_phone="1234567", emergency_contact_relationship="y",
    ).patient  # fmt: skip
    consent = SignedConsent.objects.get(document__kind="family-access")
    SignedConsent.objects.filter(pk=consent.pk).update(status="inactive")  # grant row left "active"
    assert client_for(world.fay).get(reverse("intake:family_patient", args=[patient.pk])).status_code == 404


def test_override_needs_a_reason_and_is_counted(world: World, client_for) -> None:
    made = services.create_staff_referral(
        world.ivan,
        {"given_name": "Rita", "family_name": "Moss", "date_of_birth": date(1974, 6, 1), "concerns": "panic",
         "source": Source.CLINICIAN, "referrer_name": "GP"},
    )  # fmt: skip
    services.record_screening(world.ivan, made, SCREENING | {"hours_per_week": 6, "days_per_week": 2})
    carla = client_for(world.carla)
    url = reverse("referrals:decide", args=[made.pk])
    bad = carla.post(url, {"decision": "override", "level": "iop", "track": "adult-mental-health", "reason": "no"})
    assert bad.status_code == 400 and "at least 10 characters" in bad.content.decode()
    good = carla.post(
        url, {"decision": "override", "level": "iop", "track": "adult-mental-health", "reason": "Can add a third day."}
    )
    assert good.status_code == 302
    recommendation = Recommendation.objects.get(referral=made)
    assert (recommendation.level, recommendation.final_level, recommendation.decision) == (
        "outpatient",
        "iop",
        "overridden",
    )
    board = client_for(world.ivan).get(reverse("referrals:board")).content.decode()
    assert re.search(r"Recommendations overridden: <strong>1</strong>", board)


def test_crisis_now_screening_raises_an_urgent_task(
    world: World, client_for, django_capture_on_commit_callbacks
) -> None:
    made = services.create_staff_referral(
        world.ivan,
        {"given_name": "Max", "family_name": "Hale", "date_of_birth": date(1999, 2, 2), "concerns": "x",
         "source": Source.CLINICIAN, "referrer_name": "ER"},
    )  # fmt: skip
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.ivan).post(
            reverse("referrals:screen", args=[made.pk]), SCREENING | {"danger_now": "on"}, follow=True
        )
    assert "Crisis care now" in response.content.decode()
    made.refresh_from_db()
    assert made.needs_urgent_attention
    assert_urgent_alert(made, world)
    board = client_for(world.ivan).get(reverse("referrals:board")).content.decode()
    assert "Call now" in board
    client_for(world.ivan).post(reverse("referrals:acknowledge", args=[made.pk]))
    made.refresh_from_db()
    assert not made.needs_urgent_attention and made.urgent_acknowledged_by == world.ivan
    assert SafetyAlert.objects.get(pk=made.safety_alert_id).status == "acknowledged"


def test_step_down_starts_the_week_after_discharge(world: World) -> None:
    discharge = date(2026, 12, 2)  # a Wednesday
    referral, token = make_consented(world, source=Source.STEP_DOWN, residential_discharge_date=discharge)
    sign_all(referral, token)
    enrolled = services.enroll(
        world.ivan, referral, track=world.track, start_date=date(2026, 11, 30),
        emergency_contact_name="x", emergency_contact_phone="1234567", emergency_contact_relationship="y",
    )  # fmt: skip
    assert enrolled.enrollment.start_date == date(2026, 12, 7)  # the Monday after


def test_step_down_without_discharge_date_is_refused(world: World, client_for) -> None:
    client = client_for(world.ivan)
    response = client.post(
        reverse("referrals:new"),
        {"source": "step-down", "referrer_name": "Harbor House", "given_name": "Al", "family_name": "Bo",
         "date_of_birth": "1980-01-01", "email": "a@example.org", "preferred_language": "English",
         "concerns": "x", "attendance": "virtual"},
    )  # fmt: skip
    assert response.status_code == 400 and "discharge date" in response.content.decode()
    assert not Referral.objects.exists()


def test_board_filters_and_days_waiting(world: World, client_for) -> None:
    old = services.create_staff_referral(
        world.ivan,
        {"given_name": "Old", "family_name": "Case", "date_of_birth": date(1980, 1, 1), "concerns": "x",
         "source": Source.CLINICIAN, "referrer_name": "GP"},
    )  # fmt: skip
    Referral.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=9))
    closed = services.create_staff_referral(
        world.ivan,
        {"given_name": "Gone", "family_name": "Away", "date_of_birth": date(1980, 1, 1), "concerns": "x",
         "source": Source.CLINICIAN, "referrer_name": "GP"},
    )  # fmt: skip
    services.close_referral(world.ivan, closed, status=Status.DECLINED, note="not interested")
    ivan = client_for(world.ivan)
    body = ivan.get(reverse("referrals:board")).content.decode()
    assert old.reference in body and closed.reference not in body
    assert re.search(rf"{old.reference}.*?<td class=\"num\">9</td>", body, re.S)
    declined = ivan.get(reverse("referrals:board"), {"status": "declined"}).content.decode()
    assert closed.reference in declined and old.reference not in declined
    assert old.reference in ivan.get(reverse("referrals:board"), {"q": "case"}).content.decode()
    # Other programs' staff never see it.
    assert client_for(world.otto).get(reverse("referrals:detail", args=[old.pk])).status_code == 404


def test_patient_signs_in_after_enrollment(world: World) -> None:
    referral, token = make_consented(world)
    sign_all(referral, token)
    enrolled = services.enroll(
        world.ivan, referral, track=world.track, start_date=None,
        emergency_contact_name="x", emergency_contact_phone="1234567", emergency_contact_relationship="y",
    )  # fmt: skip
    client = Client()
    accept = client.post(
        enrolled.invitation_url.replace("http://127.0.0.1:8000", ""),
        {"new_password1": "a-long-pass-phrase-1", "new_password2": "a-long-pass-phrase-1"},
    )
    assert accept.status_code == 302
    user = enrolled.patient.user
    assert user is not None
    signed_in = client.post(
        reverse("accounts:login"), {"username": user.username, "password": "a-long-pass-phrase-1"}, follow=True
    )
    assert "Hello, Sam" in signed_in.content.decode()


def test_signed_consents_map_one_to_one_to_fhir_consent(world: World, client_for) -> None:
    from openiop.referrals.fhir import to_fhir

    referral, token = make_consented(world)
    sign_all(referral, token, services.FamilyChoice("Fay", "Testperson", world.fay.email, "sister", True, False))
    patient = services.enroll(
        world.ivan, referral, track=world.track, start_date=None,
        emergency_contact_name="x", emergency_contact_phone="1234567", emergency_contact_relationship="y",
    ).patient  # fmt: skip
    consents = {c.document.kind: c for c in SignedConsent.objects.filter(patient=patient).select_related("document")}
    part2 = json.loads(to_fhir(consents["part2"]).model_dump_json())  # valid FHIR R4 Consent, as JSON
    assert part2["resourceType"] == "Consent" and part2["status"] == "active"
    assert part2["patient"]["reference"] == f"Patient/{patient.pk}"
    assert part2["policy"][0]["uri"].endswith("part-2")
    assert {p["code"] for p in part2["provision"]["purpose"]} == {"TREAT", "HPAYMT", "HOPERAT"}
    assert part2["identifier"][0]["value"] == consents["part2"].text_sha256
    assert "Who may share: Harborview" in base64.b64decode(part2["sourceAttachment"]["data"]).decode()
    family = consents["family-access"]
    services.revoke_consent(world.ivan, family, "Patient asked in writing")
    family.refresh_from_db()
    revoked = json.loads(to_fhir(family).model_dump_json())
    assert revoked["status"] == "inactive" and revoked["provision"]["period"]["end"]
    assert revoked["provision"]["actor"][0]["reference"]["display"] == "Fay Testperson"
    treatment = json.loads(to_fhir(consents["treatment"]).model_dump_json())
    assert treatment["scope"]["coding"][0]["code"] == "treatment"


SELF_ANSWERS = {
    "withdrawal": 0,
    "biomedical": 0,
    "emotional": 2,
    "readiness": 1,
    "relapse": 1,
    "environment": 1,
    "hours_per_week": 6,
    "days_per_week": 2,
}


def test_person_answers_the_screening_online_and_hears_about_the_hours(world: World) -> None:
    client = Client()
    client.post(
        reverse("referrals:refer", args=[world.harborview.slug]), form_data(client, world, concern_substance_use="")
    )
    url = reverse("referrals:self_screen", args=[world.harborview.slug])
    assert "A few questions" in client.get(url).content.decode()
    response = client.post(url, SELF_ANSWERS)
    body = response.content.decode()
    assert response.status_code == 200
    assert "at least 9 hours a week on 3 or more days" in body and "weekly outpatient therapy" in body
    recommendation = Recommendation.objects.get()
    assert recommendation.screening.done_by is None and recommendation.screening.focus == "mental-health"
    assert (recommendation.clinical_level, recommendation.level) == (loc.IOP, loc.OUTPATIENT)
    assert recommendation.decision == "pending"  # still a clinician's call
    assert Referral.objects.get().status == Status.RECOMMENDED
    again = client.post(url, SELF_ANSWERS)
    assert again.status_code == 400 and "We have your answers already" in again.content.decode()
    assert Recommendation.objects.count() == 1
    # Someone else's browser has no referral to answer for.
    assert Client().get(url).status_code == 302


def test_person_in_danger_online_sees_crisis_help_at_once(world: World, django_capture_on_commit_callbacks) -> None:
    client = Client()
    client.post(reverse("referrals:refer", args=[world.harborview.slug]), form_data(client, world))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("referrals:self_screen", args=[world.harborview.slug]), SELF_ANSWERS | {"danger_now": "on"}
        )
    body = response.content.decode()
    assert "Please get help now" in body and 'href="tel:988"' in body and "tel:+18337732445" in body
    assert Referral.objects.get().needs_urgent_attention
    assert_urgent_alert(Referral.objects.get(), world)


def test_self_screening_rejects_bad_answers(world: World) -> None:
    client = Client()
    client.post(reverse("referrals:refer", args=[world.harborview.slug]), form_data(client, world))
    response = client.post(
        reverse("referrals:self_screen", args=[world.harborview.slug]),
        SELF_ANSWERS | {"emotional": 9, "days_per_week": 8},
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not Recommendation.objects.exists()


def test_fhir_api_serves_consents_and_withholds_part2_patients(world: World) -> None:
    from openiop.fhirapi import services as fhir_services
    from openiop.scheduling.models import Focus, Population, Track

    mental_health = Track.objects.create(
        program=world.harborview, name="Adult MH", slug="mh", population=Population.ADULT, focus=Focus.MENTAL_HEALTH
    )
    referral, token = make_consented(world, concern_substance_use=False)
    Recommendation.objects.filter(referral=referral).update(final_track=loc.TRACK_MENTAL_HEALTH)
    Screening.objects.filter(referral=referral).update(focus="mental-health")
    sign_all(referral, token)
    patient = services.enroll(
        world.ivan, referral, track=mental_health, start_date=None,
        emergency_contact_name="x", emergency_contact_phone="1234567", emergency_contact_relationship="y",
    ).patient  # fmt: skip
    bearer = fhir_services.create_client(world.dora, name="HIE", scopes=["system/Consent.read"]).token
    api = Client(HTTP_AUTHORIZATION=f"Bearer {bearer}")
    bundle = api.get("/fhir/Consent", {"patient": f"Patient/{patient.pk}"}).json()
    assert bundle["resourceType"] == "Bundle"
    kinds = sorted(entry["resource"]["category"][0]["coding"][0]["code"] for entry in bundle["entry"])
    assert kinds == ["59284-0", "59284-0"]  # treatment and telehealth; no Part 2 consent for a mental health track
    # A substance-use patient's consents do not leave (42 CFR Part 2 default in the FHIR API).
    su_referral, su_token = make_consented(world, email="su@example.org", given_name="Lee")
    sign_all(su_referral, su_token)
    su_patient = services.enroll(
        world.ivan, su_referral, track=world.track, start_date=None,
        emergency_contact_name="x", emergency_contact_phone="1234567", emergency_contact_relationship="y",
    ).patient  # fmt: skip
    assert api.get("/fhir/Consent", {"patient": f"Patient/{su_patient.pk}"}).json().get("entry", []) == []


def test_a_new_screening_replaces_undecided_advice(world: World) -> None:
    made = services.create_staff_referral(
        world.ivan,
        {"given_name": "Ola", "family_name": "Berg", "date_of_birth": date(1988, 8, 8), "concerns": "x",
         "source": Source.CLINICIAN, "referrer_name": "GP"},
    )  # fmt: skip
    first = services.record_screening(world.ivan, made, SCREENING)
    second = services.record_screening(world.ivan, made, SCREENING | {"hours_per_week": 4})
    first.refresh_from_db()
    assert first.decision == "superseded" and second.decision == "pending"
    assert services.current_recommendation(made) == second
    with pytest.raises(services.ServiceError):
        services.decide(world.carla, first, confirm=True)


def test_enrolling_with_someone_elses_clinician_is_refused(world: World) -> None:
    referral, token = make_consented(world)
    sign_all(referral, token)
    with pytest.raises(services.ServiceError, match="clinician of this program"):
        services.enroll(
            world.ivan, referral, track=world.track, start_date=None, primary_clinician=world.oscar,
            emergency_contact_name="x", emergency_contact_phone="1234567", emergency_contact_relationship="y",
        )  # fmt: skip
    assert not Patient.objects.filter(referral=referral).exists()
    referral.refresh_from_db()
    assert referral.status == Status.CONSENTED
