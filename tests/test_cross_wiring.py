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


def test_the_clinician_keeps_the_room_chat_in_the_session_note(world: World, client_for) -> None:
    from openiop.audit.models import AuditEntry
    from openiop.treatment.models import Note

    session = make_session(world, world.carla, [world.pat], kind=SessionKind.INDIVIDUAL)
    url = reverse("rooms:chat_to_note", args=[session.pk])
    carla = client_for(world.carla)
    assert carla.post(url, {"transcript": "   \n "}).status_code == 400  # nothing to save, nothing stored
    assert not Note.objects.filter(session=session).exists()
    saved = carla.post(url, {"transcript": "Pat: can we go over the plan?\nCarla Testperson: yes, after the break"})
    assert saved.status_code == 200 and saved.json()["ok"]
    note = Note.objects.get(session=session)
    assert note.status == "draft" and "Pat: can we go over the plan?" in note.data
    assert "Chat from the session room, saved by Carla Testperson" in note.data
    assert AuditEntry.objects.filter(
        record_type="treatment.note", record_id=str(note.pk), detail__chat_saved__gt=0
    ).exists()
    # Others cannot; a signed note is never changed.
    assert client_for(world.pat_user).post(url, {"transcript": "x"}).status_code == 404
    assert client_for(world.cole).post(url, {"transcript": "x"}).status_code == 404
    Note.objects.filter(pk=note.pk).update(status="signed")
    refused = carla.post(url, {"transcript": "later line"})
    assert refused.status_code == 400 and "addendum" in refused.json()["message"]
    note.refresh_from_db()
    assert "later line" not in note.data


def test_a_patient_sees_their_own_progress_in_plain_words(world: World, client_for) -> None:
    from openiop.audit.models import AuditEntry
    from openiop.measures import services as measures

    phq9 = measures.builtin_questionnaire("phq9")
    options = phq9.parsed().by_link_id()
    for patient, series in ((world.pat, ([3, 3, 3, 3, 3, 2, 2, 1, 0], [1, 1, 1, 1, 1, 1, 1, 1, 0])),
                            (world.quinn, ([2] * 8 + [0],))):  # fmt: skip
        for values in series:
            measures.submit_response(
                questionnaire=phq9, patient=patient, actor=world.carla,
                answers={str(n): options[str(n)].options[v] for n, v in enumerate(values, start=1)},
            )  # fmt: skip
    page = client_for(world.pat_user).get(reverse("measures:my_progress"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Your first score was 20; your latest is 8." in body and "That is a real improvement." in body
    assert ">16<" not in body  # Quinn's score is not on Pat's page
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.patient == world.pat and entry.detail["purpose"] == "my-progress"
    assert client_for(world.carla).get(reverse("measures:my_progress")).status_code == 404
