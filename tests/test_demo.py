"""The demo program: deterministic, synthetic, and every printed sign-in works."""

from __future__ import annotations

import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from openiop.accounts.models import Program, Role, User
from openiop.audit.models import AuditEntry
from openiop.demo import builder
from openiop.intake.models import Enrollment, FamilyAccess, Patient
from openiop.measures.models import DerivedObservation, MeasureResponse
from openiop.scheduling.models import GroupMembership, Population

HOMES = {
    "director": "program_overview",
    "intake": "intake_home",
    "clinician": "caseload",
    "patient": "portal:today",
    "family": "intake:family_home",
}


def seed(patients: int, seed: int) -> str:
    out, err = StringIO(), StringIO()
    call_command("seed_demo", patients=patients, seed=seed, stdout=out, stderr=err)
    bars = err.getvalue().splitlines()  # the progress bar: one line per stage, filling up
    assert bars[0].startswith("  [----") and bars[-1].startswith("  [" + "#" * 28 + "]") and "done" in bars[-1]
    return out.getvalue()


def snapshot() -> list[tuple[str, str, str, str, date]]:
    return list(
        Patient.objects.order_by("record_number", "enrollments__start_date").values_list(
            "record_number", "given_name", "family_name", "enrollments__status", "enrollments__start_date"
        )
    )


@pytest.mark.django_db
def test_same_seed_same_program_other_seed_other_program() -> None:
    runs = []
    for seed_value in (7, 7, 8):
        with transaction.atomic():
            seed(30, seed_value)
            runs.append(snapshot())
            transaction.set_rollback(True)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.django_db
def test_adolescents_are_13_to_17_when_they_start() -> None:
    for seed_value in range(1, 6):
        with transaction.atomic():
            seed(200, seed_value)
            for enrollment in Enrollment.objects.select_related("patient", "track"):
                age = enrollment.patient.age_on(enrollment.start_date)
                if enrollment.track.population == Population.ADOLESCENT:
                    assert 13 <= age <= 17, (seed_value, enrollment.patient.record_number, age)
                else:
                    assert age >= 18
            transaction.set_rollback(True)


@pytest.mark.django_db
def test_demo_program_of_sixty() -> None:
    output = seed(60, 1)
    assert "60 patients" in output
    assert User.objects.filter(role=Role.CLINICIAN).count() == 5
    assert User.objects.filter(username__in=["director", "intake", "clinician1", "patient60", "family15"]).count() == 5
    # Tracks: adolescents are 13-17 and only in the adolescent track.
    for enrollment in Enrollment.objects.select_related("patient", "track"):
        age = enrollment.patient.age_on(enrollment.start_date)
        if enrollment.track.population == Population.ADOLESCENT:
            assert 13 <= age <= 17
        else:
            assert age >= 18
    # Groups never exceed 10 and never mix tracks.
    for membership in GroupMembership.objects.select_related("group", "patient"):
        assert membership.patient.enrollments.filter(track=membership.group.track_id).exists()
    sizes = GroupMembership.objects.values("group").annotate(n=Count("id")).values_list("n", flat=True)
    assert sizes and max(sizes) <= 10
    assert FamilyAccess.objects.count() == 15
    assert AuditEntry.objects.filter(action="create", detail__demo=True).count() == 1
    with pytest.raises(CommandError, match="already loaded"):
        seed(60, 1)


@pytest.mark.django_db
def test_every_printed_sign_in_lands_on_its_home_page(settings) -> None:
    settings.DEMO_MODE = True
    output = seed(24, 1)
    printed = re.findall(r"^\s+(\w+?)(\d*)(?: \.\.\. (\w+?)(\d+))?\s{2,}", output, re.MULTILINE)
    usernames = []
    for prefix, first, _, last in printed:
        usernames.append(prefix + first)
        if last:
            usernames.append(prefix + last)
    assert {"director", "intake", "clinician1", "patient1", "patient24", "family1"} <= set(usernames)
    for username in usernames:
        client = Client()
        response = client.post(
            reverse("accounts:login"), {"username": username, "password": settings.DEMO_PASSWORD}, follow=True
        )
        role = User.objects.get(username=username).role
        assert response.redirect_chain[-1][0] == reverse(HOMES[role]), username
        assert response.status_code == 200
        assert b"Demo mode" in response.content


@pytest.mark.django_db
def test_the_demo_is_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure in a late stage leaves nothing behind: no program, no patients, no measures."""

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("stage failed")

    monkeypatch.setattr("openiop.treatment.demo.build", fail)
    with pytest.raises(RuntimeError, match="stage failed"):
        call_command("seed_demo", patients=12, seed=1, stdout=StringIO(), stderr=StringIO())
    assert not Program.objects.filter(slug=builder.DEMO_PROGRAM_SLUG).exists()
    assert not Patient.objects.exists()
    assert not MeasureResponse.objects.exists()
    assert not DerivedObservation.objects.exists()


def test_seed_demo_rejects_a_bad_size() -> None:
    with pytest.raises(CommandError, match="--patients must be between"):
        call_command("seed_demo", patients=0, stdout=StringIO())
