"""Break-glass: a clinician opens a record outside their caseload after typing
a reason; it is logged, flagged and shown to the director."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import BreakGlassGrant
from openiop.audit.models import AuditEntry
from tests.conftest import World


def test_break_glass_opens_the_record_logs_and_flags_it(world: World, client_for) -> None:
    carla = client_for(world.carla)
    chart = reverse("intake:patient_chart", args=[world.quinn.pk])
    assert carla.get(chart).status_code == 404

    response = carla.post(
        reverse("break_glass"), {"record_number": " H-2 ", "reason": "Quinn called in crisis; Cole is away"}
    )
    assert response.status_code == 302 and response["Location"] == chart
    grant = BreakGlassGrant.objects.get(clinician=world.carla, patient=world.quinn)
    assert grant.reason == "Quinn called in crisis; Cole is away"
    assert timedelta(minutes=59) < grant.expires_at - timezone.now() <= timedelta(minutes=60)
    logged = AuditEntry.objects.get(action="break-glass", actor=world.carla)
    assert logged.flagged and logged.patient == world.quinn
    assert logged.detail["reason"] == "Quinn called in crisis; Cole is away"

    page = carla.get(chart)
    assert page.status_code == 200
    assert b"You are viewing this record by emergency access" in page.content
    read = AuditEntry.objects.filter(action="read", actor=world.carla, patient=world.quinn).latest("seq")
    assert read.flagged and read.detail["break_glass_grant"] == grant.pk

    # The director sees it until reviewed.
    director = client_for(world.dora)
    overview = director.get(reverse("program_overview"))
    assert b"Quinn called in crisis" in overview.content
    assert director.post(reverse("review_break_glass", args=[grant.pk])).status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == world.dora and grant.reviewed_at is not None
    assert b"Quinn called in crisis" not in director.get(reverse("program_overview")).content
    # Reviewing twice changes nothing.
    reviewed_at = grant.reviewed_at
    director.post(reverse("review_break_glass", args=[grant.pk]))
    grant.refresh_from_db()
    assert grant.reviewed_at == reviewed_at

    # When the grant runs out, so does the access.
    BreakGlassGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert carla.get(chart).status_code == 404


def test_break_glass_never_crosses_programs(world: World, client_for) -> None:
    carla = client_for(world.carla)
    response = carla.post(reverse("break_glass"), {"record_number": "E-1", "reason": "wrong program entirely"})
    assert response.status_code == 400
    assert carla.get(reverse("intake:patient_chart", args=[world.olga.pk])).status_code == 404


def test_break_glass_is_for_clinicians_only(world: World, client_for) -> None:
    for person in (world.ivan, world.dora, world.pat_user, world.fay):
        response = client_for(person).post(reverse("break_glass"), {"record_number": "H-2", "reason": "just curious x"})
        assert response.status_code == 404
    assert not BreakGlassGrant.objects.filter(patient=world.quinn).exists()
