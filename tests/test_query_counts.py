"""No N+1: the busiest pages run the same number of queries for 5 patients as for 50."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.intake.models import CareTeamMember
from openiop.safety.models import SafetyAlert
from openiop.scheduling.models import GroupMembership
from tests.attendance_fixtures import attend, local, make_session
from tests.conftest import World, enroll, make_patient


def grow(world: World, count: int) -> None:
    """`count` more patients on Carla's caseload and in Cole's group, each with an open safety alert and an
    attendance at a group session of last week (one more session each time)."""
    start = world.harborview.patients.count()
    session = make_session(world.harborview, local(timezone.localdate() - timedelta(days=7), 9 + start % 12))
    for n in range(start, start + count):
        patient = make_patient(world.harborview, f"H-Q{n}", None, f"Q{n}")
        enroll(patient, world.track)
        CareTeamMember.objects.create(patient=patient, clinician=world.carla, is_primary=True)
        GroupMembership.objects.create(
            group=world.group, patient=patient, start_date=timezone.localdate() - timedelta(days=3)
        )
        SafetyAlert.objects.create(program=world.harborview, patient=patient, source="measure", summary="x")
        attend(session, patient, "attended" if n % 3 else "absent")


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


PAGES: dict[str, tuple[str, Callable[[World], str]]] = {
    "caseload": ("carla", lambda w: reverse("caseload")),
    "patient chart": ("carla", lambda w: reverse("intake:patient_chart", args=[w.pat.pk])),
    "program patients": ("dora", lambda w: reverse("program_patients")),
    "program overview": ("dora", lambda w: reverse("program_overview")),
    "dashboard": ("dora", lambda w: reverse("reports:dashboard")),
    "dashboard (one track)": ("dora", lambda w: reverse("reports:dashboard") + f"?track={w.track.pk}"),
    "safety alerts": ("carla", lambda w: reverse("safety:alert_list")),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_query_count_does_not_grow_with_patients(world: World, client_for, page: str) -> None:
    who, url = PAGES[page]
    client = client_for(getattr(world, who))
    grow(world, 5)
    queries(client, url(world))  # warm: session, two-factor device
    small = queries(client, url(world))
    grow(world, 45)
    large = queries(client, url(world))
    assert large == small, f"{page}: {small} queries with 5 patients, {large} with 50"
