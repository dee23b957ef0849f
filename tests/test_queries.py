"""Pages that list patients cost the same number of queries for 3 patients
as for 30 (no N+1)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.accounts.models import Role
from openiop.intake.models import CareTeamMember, FamilyAccess
from openiop.scheduling.models import GroupMembership
from tests.conftest import World, enroll, make_patient, make_user


def add_patients(world: World, count: int, start: int) -> None:
    for number in range(start, start + count):
        patient = make_patient(world.harborview, f"Q-{number}", None, f"Extra{number}")
        enroll(patient, world.track)
        CareTeamMember.objects.create(patient=patient, clinician=world.carla, is_primary=True)
        GroupMembership.objects.create(group=world.group, patient=patient, start_date=date.today())
        family = make_user(f"relative{number}", Role.FAMILY, world.harborview)
        FamilyAccess.objects.create(patient=patient, family_member=family, relationship="parent")


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("person", "url"),
    [
        ("carla", reverse("caseload")),
        ("dora", reverse("program_patients")),
        ("dora", reverse("program_overview")),
        ("ivan", reverse("intake_home")),
        ("dora", reverse("audit_log")),
        ("cole", reverse("caseload")),
    ],
)
def test_list_pages_do_not_grow_with_the_caseload(world: World, client_for, person: str, url: str) -> None:
    client = client_for(getattr(world, person))
    add_patients(world, 3, 100)
    client.get(url)  # warm: session, device and content-type caches
    small = queries_for(client, url)
    add_patients(world, 27, 200)
    large = queries_for(client, url)
    assert large == small, f"{url} ran {small} queries for a few patients but {large} for more"
