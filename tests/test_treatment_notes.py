"""Session notes: group notes with a shared part and one part per attendee, DAP notes, signing and locking,
addenda, co-signature, names flagged before signing, the unsigned-note to-do, and counseling notes behind
their consent."""

from __future__ import annotations

import json

from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AuditEntry
from openiop.scheduling.models import SessionKind
from openiop.treatment.models import Addendum, CounselingNotesConsent, Note, NoteStatus, Supervision
from tests.conftest import World
from tests.treatment_fixtures import make_session


def _group_post(world: World, **extra: str) -> dict[str, str]:
    data = {
        "module": "coping-strategies",
        "topic": "Grounding skills",
        "observations": "The group practised paced breathing.",
        f"p{world.pat.pk}-participation": "Shared an example from work.",
        f"p{world.pat.pk}-progress": "Used breathing twice this week.",
        f"p{world.pat.pk}-risk": "None noted.",
        f"p{world.quinn.pk}-participation": "Quiet, joined the pairs exercise.",
        f"p{world.quinn.pk}-progress": "Wrote a first relapse plan.",
        f"p{world.quinn.pk}-risk": "Mentions cravings on Fridays.",
    }
    return data | extra


def test_group_note_has_one_part_per_attendee_and_locks_when_signed(world: World, client_for) -> None:
    session = make_session(world, world.carla, [world.pat, world.quinn])
    carla = client_for(world.carla)
    page = carla.get(reverse("treatment:session_note", args=[session.pk])).content.decode()
    assert "Pat Example" in page and "Quinn Example" in page and "attendance (present, late, absent)" in page

    response = carla.post(reverse("treatment:session_note", args=[session.pk]), _group_post(world, action="sign"))
    assert response.status_code == 302
    note = Note.objects.get(session=session)
    assert note.status == NoteStatus.SIGNED and note.signed_at is not None and note.module == "coping-strategies"
    parts = {part.patient_id: part for part in note.parts.all()}
    assert parts[world.quinn.pk].risk == "Mentions cravings on Fridays."
    assert parts[world.pat.pk].progress == "Used breathing twice this week."

    # Signed: a change is refused and nothing changes.
    response = carla.post(
        reverse("treatment:session_note", args=[session.pk]),
        _group_post(world, observations="Rewritten afterwards.", action="save"),
    )
    assert response.status_code == 409 and "signed and locked" in response.content.decode()
    note.refresh_from_db()
    assert note.observations == "The group practised paced breathing."

    # Only an addendum.
    response = carla.post(reverse("treatment:add_addendum", args=[session.pk]), {"text": "Late arrival noted."})
    assert response.status_code == 302
    addendum = Addendum.objects.get(note=note)
    assert addendum.author == world.carla and addendum.text == "Late arrival noted."
    assert AuditEntry.objects.filter(record_type="treatment.addendum", record_id=str(addendum.pk)).exists()


def test_names_in_the_shared_part_are_flagged_and_block_signing(world: World, client_for) -> None:
    session = make_session(world, world.carla, [world.pat, world.quinn])
    carla = client_for(world.carla)
    data = _group_post(world, observations="quinn talked about her weekend.", action="sign")
    response = carla.post(reverse("treatment:session_note", args=[session.pk]), data)
    assert response.status_code == 409
    assert "names group members (Quinn)" in response.content.decode()
    note = Note.objects.get(session=session)
    assert note.status == NoteStatus.DRAFT  # saved as a draft, not signed
    assert (
        "names group members: Quinn" in carla.get(reverse("treatment:session_note", args=[session.pk])).content.decode()
    )


def test_patient_copy_shows_shared_and_own_part_never_other_members(world: World, client_for) -> None:
    session = make_session(world, world.carla, [world.pat, world.quinn])
    carla = client_for(world.carla)
    carla.post(reverse("treatment:session_note", args=[session.pk]), _group_post(world, action="sign"))
    carla.post(reverse("treatment:add_addendum", args=[session.pk]), {"text": "Called Quinn Example afterwards."})
    for page in (
        client_for(world.pat_user).get(reverse("treatment:my_treatment")).content.decode(),
        carla.get(reverse("treatment:patient_treatment", args=[world.pat.pk])).content.decode(),
        carla.get(reverse("treatment:export", args=[world.pat.pk])).content.decode(),
    ):
        assert "The group practised paced breathing." in page
        assert "Used breathing twice this week." in page
        assert "Quinn" not in page and "cravings on Fridays" not in page
        assert "Called [another member] afterwards." in page


def test_trainee_note_needs_the_supervisors_cosignature(world: World, client_for) -> None:
    Supervision.objects.create(trainee=world.cole, supervisor=world.carla)
    session = make_session(world, world.cole, [world.quinn], kind=SessionKind.INDIVIDUAL)
    cole = client_for(world.cole)
    data = {"data": "Reports sleeping 5 h.", "assessment": "Mood low but stable.", "plan": "Sleep diary.",
            f"p{world.quinn.pk}-risk": "Denies thoughts of self-harm.", "action": "sign"}  # fmt: skip
    assert cole.post(reverse("treatment:session_note", args=[session.pk]), data).status_code == 302
    note = Note.objects.get(session=session)
    assert note.status == NoteStatus.AWAITING_COSIGN

    carla = client_for(world.carla)
    assert "Co-sign a note by Cole Testperson" in carla.get(reverse("caseload")).content.decode()
    # Cole cannot co-sign his own note.
    assert cole.post(reverse("treatment:cosign", args=[session.pk])).status_code == 409
    assert carla.post(reverse("treatment:cosign", args=[session.pk])).status_code == 302
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED and note.cosigned_by == world.carla


def test_session_without_signed_note_after_24_hours_is_on_the_to_do(world: World, client_for) -> None:
    recent = make_session(world, world.carla, [world.pat], hours_ago=5)
    old = make_session(world, world.carla, [world.pat], hours_ago=30)
    carla = client_for(world.carla)
    page = carla.get(reverse("caseload")).content.decode()
    assert reverse("treatment:session_note", args=[old.pk]) in page
    assert reverse("treatment:session_note", args=[recent.pk]) not in page

    data = {"module": "", "topic": "Check-in", "observations": "Short session.", "action": "sign",
            f"p{world.pat.pk}-participation": "Engaged."}  # fmt: skip
    carla.post(reverse("treatment:session_note", args=[old.pk]), data)
    assert reverse("treatment:session_note", args=[old.pk]) not in carla.get(reverse("caseload")).content.decode()


def test_counseling_notes_hidden_without_consent_and_shown_with_it(world: World, client_for) -> None:
    session = make_session(world, world.carla, [world.pat], kind=SessionKind.INDIVIDUAL)
    carla = client_for(world.carla)
    data = {"data": "Talked through a lapse at a party.", "assessment": "Insight growing.",
            "plan": "Role-play refusals.", "counseling_note": "on", "action": "sign"}  # fmt: skip
    assert carla.post(reverse("treatment:session_note", args=[session.pk]), data).status_code == 302
    assert Note.objects.get(session=session).counseling_note

    secret = "Talked through a lapse at a party."
    record = reverse("treatment:patient_treatment", args=[world.pat.pk])
    export = reverse("treatment:export", args=[world.pat.pk])
    dora = client_for(world.dora)
    pat = client_for(world.pat_user)
    for client, url in ((carla, record), (carla, export), (dora, record), (pat, reverse("treatment:my_treatment"))):
        assert secret not in client.get(url).content.decode(), url
    assert "no counseling-notes consent on file" in carla.get(record).content.decode()

    assert (
        carla.post(reverse("treatment:counseling_consent", args=[world.pat.pk]), {"granted": "yes"}).status_code == 302
    )
    assert CounselingNotesConsent.objects.filter(patient=world.pat, revoked_at__isnull=True).count() == 1
    for client, url in ((carla, record), (dora, record), (pat, reverse("treatment:my_treatment"))):
        assert secret in client.get(url).content.decode(), url
    exported = json.loads(carla.get(export).content)
    assert [n["data"] for n in exported["notes"] if n["counseling_note"]] == [secret]
    assert "42 CFR part 2" in exported["notice"]

    # Revoked: hidden again.
    carla.post(reverse("treatment:counseling_consent", args=[world.pat.pk]), {"granted": "no"})
    assert secret not in carla.get(record).content.decode()
    consent = CounselingNotesConsent.objects.get(patient=world.pat)
    assert consent.revoked_at is not None and consent.revoked_at <= timezone.now()


def test_clinician_cannot_open_a_session_they_do_not_lead(world: World, client_for) -> None:
    session = make_session(world, world.cole, [world.quinn])
    response = client_for(world.carla).post(
        reverse("treatment:session_note", args=[session.pk]), {"topic": "x", "action": "save"}
    )
    assert response.status_code == 404
    assert not Note.objects.filter(session=session).exists()
