"""The demo's measures: the documented shape (openiop/measures/demo.py), every response real, and one transaction."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from io import StringIO
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from fhir.resources.R4B.observation import Observation

from openiop.accounts.models import Program
from openiop.demo import builder
from openiop.intake.models import Enrollment, EnrollmentStatus, Patient
from openiop.measures import conf, fhir, services
from openiop.measures.models import DerivedObservation, MeasureResponse, MeasureSchedule
from openiop.scheduling.models import Focus, Population

# The table in openiop/measures/demo.py's docstring, written out again here.
SHAPE = {
    "substance-use": {
        "intake": {"phq9", "gad7", "bam", "who5", "pcl5", "audit", "dast10"},
        "weekly": {"phq9", "gad7", "bam", "who5"},
        "discharge": {"phq9", "gad7", "bam", "who5", "pcl5"},
        "follow-up": {"phq9", "gad7", "bam", "who5"},
    },
    "mental-health": {
        "intake": {"phq9", "gad7", "who5", "pcl5", "auditc"},
        "weekly": {"phq9", "gad7", "who5"},
        "discharge": {"phq9", "gad7", "who5", "pcl5"},
        "follow-up": {"phq9", "gad7", "who5"},
    },
    "adolescent": {
        "intake": {"phq9", "gad7", "who5"},
        "weekly": {"phq9", "gad7", "who5"},
        "discharge": {"phq9", "gad7", "who5"},
        "follow-up": {"phq9", "gad7", "who5"},
    },
}
PATIENTS = 30


def kind_of(enrollment: Enrollment) -> str:
    if enrollment.track.population == Population.ADOLESCENT:
        return "adolescent"
    return "substance-use" if enrollment.track.focus == Focus.SUBSTANCE_USE else "mental-health"


@pytest.fixture(scope="module")
def seeded_once(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """One demo program for the whole module (seeding is the slow part), rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        err = StringIO()
        call_command("seed_demo", patients=PATIENTS, seed=3, stdout=StringIO(), stderr=err)
        yield err.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once: str, db: None) -> str:
    return seeded_once


def test_every_response_is_valid_fhir_scored_from_its_answers_and_never_critical(seeded: str) -> None:
    thresholds = conf.thresholds()
    responses = list(MeasureResponse.objects.select_related("questionnaire").prefetch_related("observations"))
    assert responses
    parsed: dict[int, fhir.ParsedQuestionnaire] = {}
    for response in responses:
        questionnaire = response.questionnaire
        questions = parsed.setdefault(questionnaire.pk, questionnaire.parsed())
        resource = response.resource
        assert resource["id"] == str(response.pk)
        assert resource["subject"] == {"reference": f"Patient/{response.patient_id}"}
        assert datetime.fromisoformat(resource["authored"]) == response.authored_at
        answers = fhir.answers_from_response(questions, resource)  # validates it as an R4B QuestionnaireResponse
        fresh = fhir.score(questions, answers, thresholds=thresholds)
        assert (response.total, response.band, response.subscales, response.warnings) == (
            fresh.total,
            fresh.band or "",
            fresh.subscales,
            fresh.warnings,
        )
        assert response.critical_items == fresh.critical_items == []
        if questionnaire.instrument_key == "phq9":
            assert answers["9"].ordinal == 0, "item 9 of the PHQ-9 is never positive in seeded data"
        observations = list(response.observations.all())
        assert observations, response
        for observation in observations:
            Observation.model_validate(observation.resource)
            assert observation.resource["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{response.pk}"}]
            assert observation.resource["valueInteger"] == observation.value
            assert observation.value in [fresh.total, *fresh.subscales.values()]
    assert DerivedObservation.objects.count() == sum(len(r.observations.all()) for r in responses)


def test_each_episode_has_its_intake_weekly_discharge_and_follow_up_measures(seeded: str) -> None:
    now = timezone.now()
    enrollments = list(Enrollment.objects.select_related("track").order_by("patient_id", "start_date"))
    by_episode: dict[int | None, list[MeasureResponse]] = defaultdict(list)
    follow_ups: dict[int, list[MeasureResponse]] = defaultdict(list)
    for response in MeasureResponse.objects.select_related("questionnaire"):
        assert response.authored_at <= now
        if response.occasion == "follow-up":
            assert response.enrollment_id is None  # after the episode: part of none
            follow_ups[response.patient_id].append(response)
        else:
            by_episode[response.enrollment_id].append(response)
    assert None not in by_episode

    readmitted = 0
    per_patient: dict[int, list[Enrollment]] = defaultdict(list)
    for enrollment in enrollments:
        per_patient[enrollment.patient_id].append(enrollment)
        shape = SHAPE[kind_of(enrollment)]
        mine = by_episode.pop(enrollment.pk, [])
        given: dict[str, Counter[str]] = defaultdict(Counter)
        for response in mine:
            given[response.occasion][response.questionnaire.instrument_key] += 1
            assert enrollment.start_date <= timezone.localdate(response.authored_at)
            if enrollment.end_date:
                assert timezone.localdate(response.authored_at) <= enrollment.end_date
        if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.FINISHED):
            assert not mine, "no measures before an episode starts"
            continue
        assert given["intake"] == Counter(shape["intake"]), enrollment
        assert set(given["weekly"]) <= shape["weekly"]
        weeks = (min(enrollment.end_date or timezone.localdate(), timezone.localdate()) - enrollment.start_date).days
        if weeks >= 21:  # at least two weekly check-ins: some may be missed, not most
            assert set(given["weekly"]) == shape["weekly"]
            assert max(given["weekly"].values()) <= weeks // 7
        if enrollment.status == EnrollmentStatus.FINISHED:
            assert given["discharge"] == Counter(shape["discharge"]), enrollment
        else:
            assert not given["discharge"]
    assert not by_episode, "every response in an episode belongs to a demo enrollment"

    for patient_id, episodes in per_patient.items():
        if len(episodes) >= 2:  # earlier episodes (readmissions) are finished, each with its own measures
            readmitted += 1
            assert all(e.status == EnrollmentStatus.FINISHED and e.end_date for e in episodes[:-1])
            assert all(a.end_date and a.end_date < b.start_date for a, b in pairwise(episodes))
        finished = [e for e in episodes if e.status == EnrollmentStatus.FINISHED]
        for response in follow_ups.pop(patient_id, []):
            day = timezone.localdate(response.authored_at)
            after = [e for e in finished if e.end_date and timedelta(days=7) <= day - e.end_date <= timedelta(days=370)]
            assert after, "a follow-up comes 7 days to a year after a discharge"
            assert response.questionnaire.instrument_key in SHAPE[kind_of(after[-1])]["follow-up"]
    assert not follow_ups
    assert readmitted >= PATIENTS // 10, "earlier episodes of care (readmissions) are common in the demo"
    # Scale: about a hundred responses a patient (a million at --patients 10000).
    assert 50 * PATIENTS <= MeasureResponse.objects.count() <= 150 * PATIENTS


def test_schedules_follow_the_shape(seeded: str) -> None:
    program = Program.objects.get(slug=builder.DEMO_PROGRAM_SLUG)
    for schedule in MeasureSchedule.objects.filter(track__program=program).select_related("track", "questionnaire"):
        track = schedule.track
        kind = (
            "adolescent"
            if track.population == Population.ADOLESCENT
            else ("substance-use" if track.focus == Focus.SUBSTANCE_USE else "mental-health")
        )
        key = schedule.questionnaire.instrument_key
        assert (schedule.at_intake, schedule.weekly, schedule.at_discharge) == tuple(
            key in SHAPE[kind][occasion] for occasion in ("intake", "weekly", "discharge")
        )


def test_the_measures_stage_reports_its_progress(seeded: str) -> None:
    lines = [line for line in seeded.splitlines() if "measures: " in line]
    assert lines and lines[-1].endswith(" a second")
    done, total = lines[-1].split("measures: ")[1].split(" responses")[0].split(" of ")
    assert done == total == f"{MeasureResponse.objects.count():,}"


def test_a_response_given_after_the_seed_gets_a_new_id(seeded: str) -> None:
    """The seed hands out ids itself; the database's own numbering goes on after them."""
    patient = Patient.objects.filter(enrollments__status=EnrollmentStatus.ACTIVE).select_related("user").first()
    assert patient is not None and patient.user is not None
    highest = MeasureResponse.objects.order_by("-pk").values_list("pk", flat=True)[0]
    response = services.submit_response(
        questionnaire=services.builtin_questionnaire("who5"),
        patient=patient,
        actor=patient.user,
        answers={q.link_id: q.options[2] for q in services.builtin_questionnaire("who5").parsed().questions()},
    )
    assert response.pk > highest
    assert response.resource["id"] == str(response.pk)
