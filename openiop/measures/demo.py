"""Synthetic measures for the demo program: schedules per track and weekly
scores that move the way real ones do (most improve, some stall, a few worsen).

Scores are computed by the scoring module from synthetic item answers, like
real ones. Item 9 of the PHQ-9 is always "not at all" here, so the demo opens
with no safety alerts; submit one yourself to see the crisis path."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from openiop.intake.models import Enrollment, EnrollmentStatus
from openiop.measures import fhir, services
from openiop.measures.models import DerivedObservation, MeasureResponse, MeasureSchedule, Occasion, Questionnaire
from openiop.scheduling.models import Focus, Track


def build(*, tracks: list[Track], enrollments: list[Enrollment], rng: random.Random, today: date) -> int:
    """Create schedules and past responses; returns the number of responses."""
    phq9, gad7, bam = (services.builtin_questionnaire(key) for key in ("phq9", "gad7", "bam"))
    plan: dict[int, list[Questionnaire]] = {}
    schedules = []
    for track in tracks:
        chosen = [phq9, bam] if track.focus == Focus.SUBSTANCE_USE else [phq9, gad7]
        plan[track.pk] = chosen
        schedules += [MeasureSchedule(track=track, questionnaire=q) for q in chosen]
    MeasureSchedule.objects.bulk_create(schedules)

    parsed = {q.pk: q.parsed() for q in (phq9, gad7, bam)}
    responses: list[MeasureResponse] = []
    observations: list[list[dict[str, Any]]] = []
    given: list[dict[str, Any]] = []
    for enrollment in enrollments:
        if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.FINISHED) or not enrollment.patient.user:
            continue
        last = min(today, enrollment.end_date or today)
        weeks = (last - enrollment.start_date).days // 7
        course = rng.choice(["improve", "improve", "improve", "stall", "worsen"])
        for questionnaire in plan[enrollment.track_id]:
            questions = parsed[questionnaire.pk]
            level = rng.uniform(0.45, 0.75)  # share of the maximum at baseline
            for week in range(weeks + 1):
                step = {"improve": -0.06, "stall": 0.0, "worsen": 0.035}[course]
                share = max(0.02, min(0.95, level + step * week + rng.uniform(-0.05, 0.05)))
                answers = _answers(questions, share, rng)
                result = fhir.score(questions, answers)
                authored_at = timezone.make_aware(
                    datetime.combine(enrollment.start_date + timedelta(weeks=week), time(18, rng.randint(0, 59)))
                )
                response = MeasureResponse(
                    patient_id=enrollment.patient_id,
                    questionnaire=questionnaire,
                    enrollment=enrollment,
                    occasion=Occasion.INTAKE if week == 0 else Occasion.WEEKLY,
                    authored_at=authored_at,
                    submitted_by=enrollment.patient.user,
                    resource={},
                    total=result.total,
                    band=result.band or "",
                    subscales=result.subscales,
                    critical_items=result.critical_items,
                    warnings=result.warnings,
                )
                responses.append(response)
                given.append(answers)  # the FHIR JSON needs the id: written after the insert
    MeasureResponse.objects.bulk_create(responses, batch_size=1000)
    for response, answers in zip(responses, given, strict=True):
        questions = parsed[response.questionnaire.pk]
        subject = f"Patient/{response.patient_id}"
        authored = response.authored_at.isoformat()
        response.resource = fhir.build_response(
            questions, answers, response_id=str(response.pk), subject=subject, authored=authored
        )
        result = fhir.score(questions, answers)
        observations.append(
            fhir.build_observations(
                questions, result, response_id=str(response.pk), subject=subject, effective=authored
            )
        )
    MeasureResponse.objects.bulk_update(responses, ["resource"], batch_size=1000)
    DerivedObservation.objects.bulk_create(
        [
            DerivedObservation(
                response=response,
                code_system=obs["code"]["coding"][0]["system"],
                code=obs["code"]["coding"][0]["code"],
                value=obs["valueInteger"],
                resource=obs,
            )
            for response, group in zip(responses, observations, strict=True)
            for obs in group
        ],
        batch_size=1000,
    )
    return len(responses)


def _answers(questions: fhir.ParsedQuestionnaire, share: float, rng: random.Random) -> dict[str, Any]:
    """Synthetic answers near `share` of each item's range; never a critical answer."""
    answers: dict[str, Any] = {}
    for item in questions.questions():
        if item.type != "choice":
            continue
        if item.critical:
            answers[item.link_id] = item.options[0]
            continue
        top = len(item.options) - 1
        index = max(0, min(top, round(share * top + rng.uniform(-0.8, 0.8))))
        answers[item.link_id] = item.options[index]
    return answers
