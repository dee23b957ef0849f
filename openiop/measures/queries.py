"""Read helpers for measures pages. They take an already authorised patient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, F, Min, Q, QuerySet, Window
from django.db.models.functions import FirstValue, RowNumber

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


# Trajectories show scores, never the answers: the FHIR JSON of responses and questionnaires stays in the database
# (a patient with a long history has hundreds of responses).
CHART_ONLY = ("resource", "questionnaire__resource")


def trajectories(patient: Patient) -> list[Trajectory]:
    """Each of the patient's measures over time, in one query. The points are responses without their FHIR JSON."""
    responses = (
        MeasureResponse.objects.filter(patient=patient, status=MeasureResponse.Status.COMPLETED)
        .select_related("questionnaire")
        .defer(*CHART_ONLY)
        .order_by("authored_at", "pk")
    )
    grouped: dict[int, list[MeasureResponse]] = {}
    for response in responses:
        grouped.setdefault(response.questionnaire_id, []).append(response)
    return _trajectories(grouped)


@dataclass(frozen=True)
class Progress:
    """One patient's change on one measure, first score to latest: a row of the progress list."""

    patient_id: int
    questionnaire: Questionnaire
    change: scoring.Change
    weeks_since_baseline: int

    @property
    def worsening(self) -> bool:
        return bool(self.change.reliable_worsening)

    @property
    def stalled(self) -> bool:
        """No reliable change after 4 weeks or more."""
        return bool(
            self.weeks_since_baseline >= 4
            and not self.change.reliable_improvement
            and not self.change.reliable_worsening
        )


def progress_of(patients: QuerySet[Patient]) -> list[Progress]:
    """For each patient and scored instrument with at least two scores in their latest episode of care: the
    change from that episode's first score to its latest (a readmission starts from its own baseline).

    The database picks each first and latest score (window functions over the patient/questionnaire/time
    index, which holds status and total too), so no response row or JSON is read and the cost does not grow
    with the number of responses. Patients go in by id, a few thousand at a time: the planner then reads
    just their part of the index (given the access rules' subquery it may read all of it)."""
    ids = list(patients.order_by().values_list("pk", flat=True))
    found: list[tuple[int, int, int, int, datetime, datetime, int | None]] = []
    for first in range(0, len(ids), PROGRESS_PATIENTS_PER_QUERY):
        found += _first_and_latest(ids[first : first + PROGRESS_PATIENTS_PER_QUERY])
    questionnaires = Questionnaire.objects.defer("resource").in_bulk({row[1] for row in found})
    thresholds = conf.thresholds()
    out = []
    # one row per episode: keep each patient's latest episode; scores outside any episode only when there is none
    latest_episode: dict[tuple[int, int], tuple[int, int, int, int, datetime, datetime, int | None]] = {}
    for row in found:
        key = (row[0], row[1])
        kept = latest_episode.get(key)
        if kept is None or (row[6] is not None, row[5]) > (kept[6] is not None, kept[5]):
            latest_episode[key] = row
    for patient_id, questionnaire_id, baseline, latest, since, authored_at, _ in latest_episode.values():
        questionnaire = questionnaires[questionnaire_id]
        instrument = scoring.INSTRUMENTS[questionnaire.instrument_key]
        change = scoring.compare(instrument, baseline, latest, thresholds)
        out.append(Progress(patient_id, questionnaire, change, (authored_at - since).days // 7))
    return out


PROGRESS_PATIENTS_PER_QUERY = 2000


def _first_and_latest(patient_ids: list[int]) -> list[tuple[int, int, int, int, datetime, datetime, int | None]]:
    """(patient, questionnaire, first total, latest total, first time, latest time, episode) for each episode of
    care with two scores or more; responses outside any episode (follow-ups, ad hoc) make one more group."""
    same = [F("patient_id"), F("questionnaire_id"), F("enrollment_id")]
    in_time = [F("authored_at"), F("pk")]
    rows = (
        MeasureResponse.objects.filter(
            patient_id__in=patient_ids,
            status=MeasureResponse.Status.COMPLETED,
            total__isnull=False,
            questionnaire__instrument_key__in=list(scoring.INSTRUMENTS),
        )
        .order_by()
        .annotate(
            # One window order for all (one pass): the latest row is the one numbered as many as there are.
            position=Window(RowNumber(), partition_by=same, order_by=in_time),
            baseline=Window(FirstValue("total"), partition_by=same, order_by=in_time),
            since=Window(Min("authored_at"), partition_by=same),
            scores=Window(Count("pk"), partition_by=same),
        )
        .filter(position=F("scores"), scores__gte=2)
        .values_list("patient_id", "questionnaire_id", "baseline", "total", "since", "authored_at", "enrollment_id")
    )
    return list(rows)  # type: ignore[arg-type]


def trajectories_in(enrollment: Enrollment) -> list[Trajectory]:
    """Trajectories from the responses given during one episode of care (baseline: its first)."""
    responses = (
        MeasureResponse.objects.filter(enrollment=enrollment, status=MeasureResponse.Status.COMPLETED)
        .select_related("questionnaire")
        .defer(*CHART_ONLY)
        .order_by("authored_at", "pk")
    )
    grouped: dict[int, list[MeasureResponse]] = {}
    for response in responses:
        grouped.setdefault(response.questionnaire_id, []).append(response)
    return _trajectories(grouped)


def _baseline(scored: list[MeasureResponse]) -> MeasureResponse | None:
    """The first score of the latest episode of care: a readmitted patient's change counts from this admission,
    not from one years ago. A follow-up after discharge (no episode) counts from the intake of the episode
    before it."""
    episode = next((p.enrollment_id for p in reversed(scored) if p.enrollment_id is not None), None)
    return next((p for p in scored if p.enrollment_id == episode), scored[0] if scored else None)


def _trajectories(by_questionnaire: dict[int, list[MeasureResponse]]) -> list[Trajectory]:
    out = []
    thresholds = conf.thresholds()
    for points in by_questionnaire.values():
        questionnaire = points[0].questionnaire
        instrument = scoring.INSTRUMENTS.get(questionnaire.instrument_key)
        scored = [p for p in points if p.total is not None]
        latest = scored[-1] if scored else None
        baseline = _baseline(scored)
        change = None
        weeks = None
        if instrument is not None and baseline is not None and latest is not None and latest is not baseline:
            assert baseline.total is not None and latest.total is not None
            change = scoring.compare(instrument, baseline.total, latest.total, thresholds)
            weeks = (latest.authored_at - baseline.authored_at).days // 7
        out.append(Trajectory(questionnaire, instrument, points, baseline, change, weeks))
    return sorted(out, key=lambda t: t.questionnaire.title)
