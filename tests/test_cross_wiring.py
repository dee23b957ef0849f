"""Pieces built in separate issues, working together: intake's consents govern what treatment shows."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from openiop.referrals import services as referrals
from openiop.referrals.models import SignedConsent
from openiop.scheduling.models import SessionKind
from tests.conftest import World
from tests.test_referrals import make_consented
from tests.treatment_fixtures import make_session


def test_the_counseling_notes_consent_signed_at_intake_governs_counseling_notes(world: World, client_for) -> None:
    referral, token = make_consented(world)
    hashes = {
        kind: referrals.text_hash(
            referrals.shown_text(referrals.current_document(kind), referrals.consent_terms(referral, kind))
        )
        for kind in [*referrals.required_kinds(referral), "counseling-notes"]
    }
    referrals.sign_consents(
        token,
        typed_name=referral.full_name,
        shown_hashes=hashes,
        counseling_notes=True,
        family=None,
        client_address="198.51.100.7",
    )
    patient = referrals.enroll(
        world.ivan, referral, track=world.track, start_date=timezone.localdate(), primary_clinician=world.carla,
        emergency_contact_name="Lu", emergency_contact_phone="617-555-0101", emergency_contact_relationship="brother",
    ).patient  # fmt: skip
    session = make_session(world, world.carla, [patient], kind=SessionKind.INDIVIDUAL)
    carla = client_for(world.carla)
    secret = "Went over a lapse after payday."
    note = {"data": secret, "assessment": "Honest.", "plan": "Plan paydays.", "counseling_note": "on", "action": "sign"}
    assert carla.post(reverse("treatment:session_note", args=[session.pk]), note).status_code == 302
    record = reverse("treatment:patient_treatment", args=[patient.pk])
    assert secret in carla.get(record).content.decode()  # the consent signed at intake allows it

    consent = SignedConsent.objects.get(patient=patient, document__kind="counseling-notes")
    referrals.revoke_consent(world.ivan, consent, "Patient asked in writing to stop sharing these notes.")
    assert secret not in carla.get(record).content.decode()  # revoked: hidden on the very next request
