"""Read helpers for measures pages. They take an already authorised patient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet

from openiop.measures import conf, due, scoring
from openiop.measures.models import MeasureResponse, MeasureSchedule, Questionnaire

if TYPE_CHECKING:
    from openiop.accounts.models import Program
    from openiop.intake.models import Enrollment, Patient


@dataclass(frozen=True)
class DueMeasure:
    questionnaire: Questionnaire
    occasion: str
    due_date: date


def available_questionnaires(program: Program) -> QuerySet[Questionnaire]:
    return Questionnaire.objects.filter(
        Q(program__isnull=True) | Q(program=program), status=Questionnaire.Status.ACTIVE
    ).order_by("title")


def questionnaire_for_program(program: Program, slug: str) -> Questionnaire | None:
    # Imports never take a built-in's slug (services.import_questionnaire), so at most one matches.
    return available_questionnaires(program).filter(slug=slug).first()


def due_measures(patient: Patient, enrollment: Enrollment | None, today: date) -> list[DueMeasure]:
    if enrollment is None or enrollment.status != "active":
        return []
    schedules = MeasureSchedule.objects.filter(track_id=enrollment.track_id).select_related("questionnaire")
    responses = list(
        MeasureResponse.objects.filter(enrollment=enrollment, status=MeasureResponse.Status.COMPLETED).values_list(
            "questionnaire_id", "occasion", "authored_at"
        )
    )
    out: list[DueMeasure] = []
    for schedule in schedules:
        mine = [(occasion, at) for qid, occasion, at in responses if qid == schedule.questionnaire_id]
        found = due.due_occasion(
            due.Plan(schedule.at_intake, schedule.weekly, schedule.at_discharge),
            start=enrollment.start_date,
            planned_end=enrollment.planned_end_date,
            today=today,
            weekly_day=settings.MEASURES_WEEKLY_DAY,
            discharge_days=settings.MEASURES_DISCHARGE_DAYS,
            done_occasions={occasion for occasion, _ in mine},
            last_response=max((at.date() for _, at in mine), default=None),
        )
        if found is not None:
            out.append(DueMeasure(schedule.questionnaire, found.occasion, found.due_date))
    return sorted(out, key=lambda d: (d.due_date, d.questionnaire.title))


@dataclass
class Trajectory:
    questionnaire: Questionnaire
    instrument: scoring.Instrument | None
    points: list[MeasureResponse]
    baseline: MeasureResponse | None
    change: scoring.Change | None
    weeks_since_baseline: int | None

    @property
    def worsening(self) -> bool:
        return bool(self.change and self.change.reliable_worsening)

    @property
    def stalled(self) -> bool:
        """No reliable change after 4 weeks or more."""
        return bool(
            self.change
            and self.weeks_since_baseline is not None
            and self.weeks_since_baseline >= 4
            and not self.change.reliable_improvement
            and not self.change.reliable_worsening
        )


def trajectories(patient: Patient) -> list[Trajectory]:
    return trajectories_of([patient]).get(patient.pk, [])


def trajectories_of(patients: list[Patient]) -> dict[int, list[Trajectory]]:
    """Each patient's trajectories, from one query (list pages)."""
    responses = (
        MeasureResponse.objects.filter(patient__in=patients, status=MeasureResponse.Status.COMPLETED)
        .select_related("questionnaire")
        .order_by("authored_at", "pk")
    )
    grouped: dict[int, dict[int, list[MeasureResponse]]] = {}
    for response in responses:
        grouped.setdefault(response.patient_id, {}).setdefault(response.questionnaire_id, []).append(response)
    return {patient_id: _trajectories(by_questionnaire) for patient_id, by_questionnaire in grouped.items()}


def trajectories_in(enrollment: Enrollment) -> list[Trajectory]:
    """Trajectories from the responses given during one episode of care (baseline: its first)."""
    responses = (
        MeasureResponse.objects.filter(enrollment=enrollment, status=MeasureResponse.Status.COMPLETED)
        .select_related("questionnaire")
        .order_by("authored_at", "pk")
    )
    grouped: dict[int, list[MeasureResponse]] = {}
    for response in responses:
        grouped.setdefault(response.questionnaire_id, []).append(response)
    return _trajectories(grouped)


def _trajectories(by_questionnaire: dict[int, list[MeasureResponse]]) -> list[Trajectory]:
    out = []
    thresholds = conf.thresholds()
    for points in by_questionnaire.values():
        questionnaire = points[0].questionnaire
        instrument = scoring.INSTRUMENTS.get(questionnaire.instrument_key)
        scored = [p for p in points if p.total is not None]
        baseline = scored[0] if scored else None
        latest = scored[-1] if scored else None
        change = None
        weeks = None
        if instrument is not None and baseline is not None and latest is not None and latest is not baseline:
            assert baseline.total is not None and latest.total is not None
            change = scoring.compare(instrument, baseline.total, latest.total, thresholds)
            weeks = (latest.authored_at - baseline.authored_at).days // 7
        out.append(Trajectory(questionnaire, instrument, points, baseline, change, weeks))
    return sorted(out, key=lambda t: t.questionnaire.title)
