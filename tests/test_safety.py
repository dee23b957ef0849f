"""A risk signal always reaches a person and stays visible until someone has acted on it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from openiop.accounts.models import Role
from openiop.audit.models import AuditEntry
from openiop.outbox.models import OutboxMessage
from openiop.safety import services
from openiop.safety.models import AlertSource, AlertStatus, SafetyAlert
from tests.conftest import World, make_user


def raise_for_pat(world: World, capture) -> SafetyAlert:
    with capture(execute=True):
        return services.raise_alert(
            program=world.harborview,
            source=AlertSource.MEASURE,
            summary="PHQ-9 item 9 answered 'nearly every day'",
            patient=world.pat,
            actor=world.pat_user,
        )


def test_an_alert_reaches_the_care_team_and_directors_by_email_without_clinical_details(
    world: World, django_capture_on_commit_callbacks
) -> None:
    alert = raise_for_pat(world, django_capture_on_commit_callbacks)
    assert set(alert.notified.all()) == {world.carla, world.dora}  # Pat's clinician, and the director
    assert sorted(m.to[0] for m in mail.outbox) == ["carla@example.org", "dora@example.org"]
    for message in mail.outbox:
        assert "Pat" not in message.body and "PHQ" not in message.body and "item 9" not in message.body
        assert reverse("safety:alert", args=[alert.pk]) in message.body
    entry = AuditEntry.objects.get(record_type="safety.safetyalert", record_id=str(alert.pk))
    assert entry.action == "create" and entry.flagged and entry.patient == world.pat and entry.actor == world.pat_user


def test_with_no_care_team_the_alert_goes_to_every_clinician_and_intake_coordinator(
    world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        alert = services.raise_alert(
            program=world.harborview, source=AlertSource.REFERRAL, summary="crisis-now", about="Referral R-7"
        )
    assert set(alert.notified.all()) == {world.ivan, world.carla, world.cole, world.dora}
    assert not alert.notified.filter(program=world.elsewhere).exists()


def test_a_deactivated_clinician_is_not_the_only_one_told(world: World, django_capture_on_commit_callbacks) -> None:
    world.carla.is_active = False
    world.carla.save()
    alert = raise_for_pat(world, django_capture_on_commit_callbacks)
    assert world.carla not in alert.notified.all()
    assert {world.cole, world.ivan} <= set(alert.notified.all())


def test_an_alert_commits_with_its_cause_or_not_at_all(world: World, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.raise_alert(program=world.harborview, source=AlertSource.MEASURE, summary="x", patient=world.pat)
        raise RuntimeError("the answer was not saved")
    assert not SafetyAlert.objects.exists() and not OutboxMessage.objects.exists() and mail.outbox == []


def test_a_patient_from_another_program_is_refused(world: World) -> None:
    with pytest.raises(ValueError):
        services.raise_alert(program=world.harborview, source=AlertSource.MEASURE, summary="x", patient=world.olga)


def test_who_sees_the_alert(world: World, client_for, django_capture_on_commit_callbacks) -> None:
    alert = raise_for_pat(world, django_capture_on_commit_callbacks)
    carla = client_for(world.carla).get(reverse("safety:alert_list"))
    assert b"Pat Example" in carla.content and b"Nobody has taken it yet" in carla.content
    assert b'class="badge">1<' in carla.content  # the count in the navigation
    read = AuditEntry.objects.filter(actor=world.carla, action="read", patient=world.pat).last()
    assert read is not None and read.detail == {"purpose": "safety-alerts"}
    # Cole is neither told nor on Pat's care team; Otto is in another program.
    assert b"Pat Example" not in client_for(world.cole).get(reverse("safety:alert_list")).content
    assert client_for(world.cole).get(reverse("safety:alert", args=[alert.pk])).status_code == 404
    assert client_for(world.otto).get(reverse("safety:alert", args=[alert.pk])).status_code == 404
    assert client_for(world.pat_user).get(reverse("safety:alert_list")).status_code == 404
    page = client_for(world.dora).get(reverse("safety:alert", args=[alert.pk]))
    assert b"item 9" in page.content
    assert AuditEntry.objects.filter(actor=world.dora, action="read", patient=world.pat).exists()


def test_acknowledge_then_resolve(world: World, client_for, django_capture_on_commit_callbacks) -> None:
    alert = raise_for_pat(world, django_capture_on_commit_callbacks)
    carla, dora = client_for(world.carla), client_for(world.dora)
    assert carla.post(reverse("safety:acknowledge", args=[alert.pk])).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == world.carla
    again = dora.post(reverse("safety:acknowledge", args=[alert.pk]))
    assert again.status_code == 409 and b"already taken" in again.content
    too_short = carla.post(reverse("safety:resolve", args=[alert.pk]), {"resolution": "ok"})
    assert too_short.status_code == 400
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    done = carla.post(reverse("safety:resolve", args=[alert.pk]), {"resolution": "Called Pat; safety plan reviewed."})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_by == world.carla
    assert alert.resolution == "Called Pat; safety plan reviewed."
    updates = AuditEntry.objects.filter(record_type="safety.safetyalert", record_id=str(alert.pk), action="update")
    assert [entry.detail["status"] for entry in updates.order_by("seq")] == ["acknowledged", "resolved"]
    listing = carla.get(reverse("safety:alert_list"))
    assert b"No open safety alerts" in listing.content and b"Recently resolved" in listing.content
    assert b'class="badge"' not in listing.content
    assert dora.post(reverse("safety:resolve", args=[alert.pk]), {"resolution": "again, twice"}).status_code == 409


def test_a_new_clinician_on_the_care_team_sees_open_alerts(
    world: World, client_for, django_capture_on_commit_callbacks
) -> None:
    alert = raise_for_pat(world, django_capture_on_commit_callbacks)
    nora = make_user("nora", Role.CLINICIAN, world.harborview)
    assert client_for(nora).get(reverse("safety:alert", args=[alert.pk])).status_code == 404
    world.pat.care_team_members.create(clinician=nora)
    assert client_for(nora).get(reverse("safety:alert", args=[alert.pk])).status_code == 200
