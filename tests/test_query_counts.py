"""No N+1: the busiest pages run the same number of queries for 5 patients as for 50."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.intake.models import CareTeamMember
from openiop.measures import services as measures_services
from openiop.measures.models import MeasureResponse, Occasion
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


def give_responses(world: World, count: int) -> None:
    """`count` more weekly PHQ-9, GAD-7 and WHO-5 responses from Pat (a long history, as in the demo)."""
    start = timezone.localdate() - timedelta(weeks=3)
    enrollment = world.pat.enrollments.get()
    given = world.pat.measure_responses.count()
    for n in range(given, given + count):
        key = ("phq9", "gad7", "who5")[n % 3]
        questionnaire = measures_services.builtin_questionnaire(key)
        questions = [q for q in questionnaire.parsed().questions() if q.type == "choice"]
        answers = {q.link_id: q.options[0 if q.critical else (n // 3) % len(q.options)] for q in questions}
        response = measures_services.submit_response(
            questionnaire=questionnaire,
            patient=world.pat,
            actor=world.pat_user,
            answers=answers,
            enrollment=enrollment,
            occasion=Occasion.WEEKLY,
        )
        MeasureResponse.objects.filter(pk=response.pk).update(
            authored_at=timezone.make_aware(datetime.combine(start, time(18))) - timedelta(weeks=n // 3)
        )


RESPONSE_PAGES: dict[str, tuple[str, Callable[[World], str]]] = {
    "patient chart": ("carla", lambda w: reverse("intake:patient_chart", args=[w.pat.pk])),
    "measures and trajectories": ("carla", lambda w: reverse("measures:trajectories", args=[w.pat.pk])),
    "caseload progress": ("carla", lambda w: reverse("measures:caseload")),
    "director's progress": ("dora", lambda w: reverse("measures:caseload")),
    "patient's progress": ("pat_user", lambda w: reverse("measures:my_progress")),
    "patient's today": ("pat_user", lambda w: reverse("portal:today")),
}


@pytest.mark.parametrize("page", sorted(RESPONSE_PAGES))
def test_query_count_does_not_grow_with_responses(world: World, client_for, page: str) -> None:
    who, url = RESPONSE_PAGES[page]
    client = client_for(getattr(world, who))
    give_responses(world, 6)
    queries(client, url(world))  # warm: session, two-factor device
    small = queries(client, url(world))
    give_responses(world, 90)
    large = queries(client, url(world))
    assert large == small, f"{page}: {small} queries with 6 responses, {large} with 96"
