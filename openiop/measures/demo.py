"""Synthetic measures for the demo program: what measurement-based care in a virtual IOP leaves behind.

The shape, for each episode of care (an Enrollment) that has started, by track (SU: adult substance use,
MH: adult mental health, A: adolescent):

- intake, on its first day: PHQ-9, GAD-7, WHO-5; also PCL-5 and AUDIT-C (MH), PCL-5, BAM, AUDIT and DAST-10 (SU);
- weekly, each week on MEASURES_WEEKLY_DAY, in the evening: PHQ-9, GAD-7, WHO-5; also BAM (SU);
- discharge, on its last day (finished episodes): the intake set without the past-year screeners;
- follow-up, 7 and 30 days after discharge (the check-ins), then 3, 6 and 12 months (outcome surveys,
  answered by 70, 60 and 50 % of patients): the weekly set.

The past-year screeners (AUDIT, AUDIT-C, DAST-10) are given at intake only. About one weekly check-in in 16 is
missed. A follow-up counts as given three days after it is due (as the check-ins in openiop.treatment.demo), and
none comes after the patient is back in care. Follow-ups come after the episode has ended, so they belong to no
enrollment (occasion "follow-up"): reports and the discharge summary read an episode's responses as intake to
discharge. Nothing is dated after now.

The episodes are those the demo builder makes: the current one and, for many patients, earlier finished ones
(readmissions; `openiop.demo.builder.EARLIER_EPISODES_WEIGHTS`). With those, --patients N gives about
100 x N responses (about a million at 10,000 patients), most of them for patients with a long history.

Scores move the way real ones do: each episode takes a course (most improve, some stall, a few worsen), each
instrument starts from its own level, well-being (WHO-5, BAM's protective items) moves the other way, and scores
rise again after discharge before a readmission. In the substance-use track, alcohol or drugs is the main
problem (AUDIT or DAST-10 high, the other low).

Every response is real: its answers are scored by `fhir.score` (the scoring module), and its
QuestionnaireResponse and Observations are built by `fhir.build_response` / `fhir.build_observations` and
validated with fhir.resources. To make a million of them in minutes, answers come from a fixed set per
instrument (LEVELS severities x VARIANTS sets of answers each); each set is scored, built and validated once,
and its JSON is reused with the response's own id, patient and time. Rows are written in batches without model
instances (openiop.demo.bulk), with ids assigned up front so the JSON carries them from the start.

Item 9 of the PHQ-9 (and any other critical item) is always answered "not at all" here, so the demo opens with no
safety alerts; submit one yourself to see the crisis path."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from openiop.demo import bulk
from openiop.intake.models import Enrollment, EnrollmentStatus
from openiop.measures import conf, fhir, scoring, services
from openiop.measures.models import DerivedObservation, MeasureResponse, MeasureSchedule, Occasion
from openiop.scheduling.models import Focus, Population, Track

SUBSTANCE_USE, MENTAL_HEALTH, ADOLESCENT = "substance-use", "mental-health", "adolescent"
INTAKE = {
    SUBSTANCE_USE: ("phq9", "gad7", "bam", "who5", "pcl5", "audit", "dast10"),
    MENTAL_HEALTH: ("phq9", "gad7", "who5", "pcl5", "auditc"),
    ADOLESCENT: ("phq9", "gad7", "who5"),
}
WEEKLY = {
    SUBSTANCE_USE: ("phq9", "gad7", "bam", "who5"),
    MENTAL_HEALTH: ("phq9", "gad7", "who5"),
    ADOLESCENT: ("phq9", "gad7", "who5"),
}
SCREENERS = ("audit", "auditc", "dast10")  # past-year questions: at intake only
DISCHARGE = {kind: tuple(key for key in keys if key not in SCREENERS) for kind, keys in INTAKE.items()}
FOLLOW_UP = WEEKLY
# Days after discharge and the share of patients who answer: the 7- and 30-day check-ins, then outcome surveys
# at 3, 6 and 12 months.
FOLLOW_UPS = ((7, 1.0), (30, 1.0), (90, 0.7), (180, 0.6), (365, 0.5))
MISSED_WEEKLY = 1 / 16

LEVELS = 16  # severities per instrument, from none (0) to the worst (LEVELS - 1)
VARIANTS = 6  # sets of answers per severity
BATCH = 10_000  # responses per insert

# Items where a higher answer means better (the synthetic answers turn these the other way).
BETTER_WHEN_HIGHER = {"who5": {1, 2, 3, 4, 5}, "bam": {*scoring.BAM_SUBSCALES["protective"], 17}}
# How far each instrument follows the episode's course (the screeners are given once).
COURSE_WEIGHT = {"phq9": 1.0, "gad7": 0.9, "bam": 0.9, "who5": 0.8, "pcl5": 0.6}


def track_kind(track: Track) -> str:
    if track.population == Population.ADOLESCENT:
        return ADOLESCENT
    return SUBSTANCE_USE if track.focus == Focus.SUBSTANCE_USE else MENTAL_HEALTH


@dataclass(frozen=True)
class Scored:
    """One set of answers, scored and turned into FHIR once, reused by every response that gives it."""

    total: int | None
    band: str
    subscales: str  # the JSON text of each column
    critical_items: str
    warnings: str
    resource_rest: str  # the QuestionnaireResponse's JSON after its id, subject and authored time, from ", "
    observations: tuple[tuple[str, str, int, str, str], ...]  # suffix, code system, code, value, JSON rest


class Instrument:
    """A built-in questionnaire and its cache of scored answer sets."""

    def __init__(self, key: str) -> None:
        self.questionnaire = services.builtin_questionnaire(key)
        self.key = key
        self.parsed = self.questionnaire.parsed()
        self.thresholds = conf.thresholds()
        self.cache: dict[tuple[int, int], Scored] = {}
        choices = [q for q in self.parsed.questions() if q.type == "choice"]
        instrument = self.parsed.instrument
        numbers = [item.number for item in instrument.items if item.labels] if instrument else []
        better = BETTER_WHEN_HIGHER.get(key, set())
        # Each choice question with its options from least to most distress.
        self.choices = [
            (
                question,
                sorted(
                    question.options,
                    key=lambda option: option.ordinal if option.ordinal is not None else option.index,
                    reverse=number in better,
                ),
            )
            for question, number in zip(choices, numbers or range(1, len(choices) + 1), strict=False)
        ]

    def scored(self, level: int, variant: int) -> Scored:
        found = self.cache.get((level, variant))
        if found is None:
            found = self.cache[(level, variant)] = self._score(level, variant)
        return found

    def _score(self, level: int, variant: int) -> Scored:
        rng = random.Random(f"{self.key}:{level}:{variant}")  # noqa: S311 - synthetic demo data, not secrets
        share = level / (LEVELS - 1)
        answers: dict[str, Any] = {}
        for question, options in self.choices:
            if question.critical:
                answers[question.link_id] = options[0]  # never a critical answer in seeded data
                continue
            top = len(options) - 1
            answers[question.link_id] = options[max(0, min(top, round(share * top + rng.uniform(-0.8, 0.8))))]
        enabled = fhir.enabled_link_ids(self.parsed, answers)
        days = [q for q in self.parsed.questions() if q.type == "integer" and q.link_id in enabled]
        if days:  # BAM item 7: days of use of one drug, within the range chosen for item 6
            drug_days = answers.get("6")
            low, high = {1: (1, 3), 2: (4, 8), 3: (9, 15), 4: (16, 30)}.get(drug_days.index if drug_days else 1, (1, 3))
            answers[rng.choice(days).link_id] = rng.randint(low, high)
        result = fhir.score(self.parsed, answers, thresholds=self.thresholds)
        resource = fhir.build_response(
            self.parsed, answers, response_id="0", subject="Patient/0", authored="2026-01-05T18:00:00-05:00"
        )
        observations = fhir.build_observations(
            self.parsed, result, response_id="0", subject="Patient/0", effective="2026-01-05T18:00:00-05:00"
        )
        return Scored(
            total=result.total,
            band=result.band or "",
            subscales=json.dumps(result.subscales),
            critical_items=json.dumps(result.critical_items),
            warnings=json.dumps(result.warnings),
            resource_rest=_rest(resource, ("id", "subject", "authored")),
            observations=tuple(
                (
                    obs["id"].split("-", 1)[1],
                    obs["code"]["coding"][0]["system"],
                    obs["code"]["coding"][0]["code"],
                    obs["valueInteger"],
                    _rest(obs, ("id", "subject", "effectiveDateTime", "derivedFrom")),
                )
                for obs in observations
            ),
        )


def _rest(resource: dict[str, Any], variable: tuple[str, ...]) -> str:
    """The resource's JSON without the `variable` keys, from the comma that follows them: ', "a": ...}'."""
    return ", " + json.dumps({k: v for k, v in resource.items() if k not in variable})[1:]


@dataclass(frozen=True)
class Administration:
    authored_at: datetime
    occasion: str
    weeks: float  # since the episode started: where on its course the scores are
    drift: float  # added after discharge
    keys: tuple[str, ...]


@dataclass
class Episode:
    enrollment: Enrollment
    kind: str
    base: dict[str, float]
    slope: float
    occasions: list[Administration]


def build(
    *,
    tracks: list[Track],
    enrollments: list[Enrollment],
    rng: random.Random,
    today: date,
    report: Callable[[int, int], None] = lambda done, total: None,
) -> int:
    """Create schedules and past responses; returns the number of responses. `report(done, total)` is called
    about every tenth of the way."""
    kinds = {track.pk: track_kind(track) for track in tracks}
    instruments = {key: Instrument(key) for key in sorted({k for keys in INTAKE.values() for k in keys})}
    MeasureSchedule.objects.bulk_create(
        [
            MeasureSchedule(
                track=track,
                questionnaire=instruments[key].questionnaire,
                at_intake=key in INTAKE[kind],
                weekly=key in WEEKLY[kind],
                at_discharge=key in DISCHARGE[kind],
            )
            for track in tracks
            for kind in [kinds[track.pk]]
            for key in dict.fromkeys(INTAKE[kind] + WEEKLY[kind])
        ]
    )
    episodes = plan_episodes(enrollments, kinds, rng, today)
    total = sum(len(o.keys) for e in episodes for o in e.occasions)
    write_responses(episodes, instruments, rng, total, report)
    return total


def plan_episodes(
    enrollments: list[Enrollment], kinds: dict[int, str], rng: random.Random, today: date
) -> list[Episode]:
    """Each started episode with the occasions it has had so far, patient by patient, oldest first."""
    now = timezone.now()
    zone = timezone.get_current_timezone()
    weekly_day = settings.MEASURES_WEEKLY_DAY
    by_patient: dict[int, list[Enrollment]] = {}
    for enrollment in enrollments:
        if enrollment.patient.user_id:
            by_patient.setdefault(enrollment.patient_id, []).append(enrollment)

    def at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=zone)

    episodes: list[Episode] = []
    for patient_id in sorted(by_patient):
        history = sorted(by_patient[patient_id], key=lambda e: e.start_date)
        for number, enrollment in enumerate(history):
            if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.FINISHED):
                continue  # not started (planned): nothing given yet
            kind = kinds[enrollment.track_id]
            course = rng.choice(["improve", "improve", "improve", "stall", "worsen"])
            base = {key: rng.uniform(0.4, 0.75) for key in COURSE_WEIGHT}
            if kind == SUBSTANCE_USE:
                alcohol = rng.random() < 0.6
                base["audit"] = rng.uniform(0.45, 0.8) if alcohol else rng.uniform(0.05, 0.3)
                base["dast10"] = rng.uniform(0.05, 0.3) if alcohol else rng.uniform(0.45, 0.85)
            base["auditc"] = rng.uniform(0.0, 0.35)
            episode = Episode(enrollment, kind, base, {"improve": -0.05, "stall": 0.0, "worsen": 0.03}[course], [])
            start, end = enrollment.start_date, enrollment.end_date
            occasions = episode.occasions
            occasions.append(Administration(at(start, rng.randint(10, 14)), Occasion.INTAKE, 0, 0, INTAKE[kind]))
            slot = start + timedelta(days=(weekly_day - start.weekday()) % 7 or 7)
            while slot <= today and (end is None or slot < end):
                if rng.random() >= MISSED_WEEKLY:
                    day = slot + timedelta(days=1 if rng.random() < 0.2 else 0)
                    occasions.append(
                        Administration(
                            at(day, rng.randint(17, 21)), Occasion.WEEKLY, (slot - start).days / 7, 0, WEEKLY[kind]
                        )
                    )
                slot += timedelta(days=7)
            if end is not None and end <= today:
                weeks = (end - start).days / 7
                occasions.append(
                    Administration(at(end, rng.randint(10, 14)), Occasion.DISCHARGE, weeks, 0, DISCHARGE[kind])
                )
                readmitted = history[number + 1].start_date if number + 1 < len(history) else None
                for days, answering in FOLLOW_UPS:
                    day = end + timedelta(days=days + rng.choice([0, 0, 1, 2]))
                    if day + timedelta(days=3) >= today or (readmitted and day >= readmitted):
                        break
                    if rng.random() >= answering:
                        continue
                    drift = rng.uniform(-0.03, 0.06) if days <= 7 else rng.uniform(-0.05, 0.12)
                    if readmitted:  # getting worse again before coming back
                        drift += rng.uniform(0.1, 0.25) * min(1.0, days / 30)
                    occasions.append(
                        Administration(at(day, rng.randint(17, 21)), Occasion.FOLLOW_UP, weeks, drift, FOLLOW_UP[kind])
                    )
            episode.occasions = [o for o in occasions if o.authored_at <= now]
            episodes.append(episode)
    return episodes


RESPONSE_FIELDS = (
    "id",
    "patient",
    "questionnaire",
    "enrollment",
    "occasion",
    "authored_at",
    "submitted_by",
    "administered_by_staff",
    "resource",
    "total",
    "band",
    "subscales",
    "critical_items",
    "warnings",
    "status",
)
OBSERVATION_FIELDS = ("response", "code_system", "code", "value", "resource")


def write_responses(
    episodes: list[Episode],
    instruments: dict[str, Instrument],
    rng: random.Random,
    total: int,
    report: Callable[[int, int], None],
) -> None:
    """Score and store every planned response with its Observations, BATCH responses at a time."""
    next_id = bulk.first_free_id(MeasureResponse)
    completed = MeasureResponse.Status.COMPLETED
    responses: list[tuple[Any, ...]] = []
    observations: list[tuple[Any, ...]] = []
    done, next_report = 0, total / 10
    top = LEVELS - 1
    for episode in episodes:
        enrollment = episode.enrollment
        patient_id, user_id = enrollment.patient_id, enrollment.patient.user_id
        subject = f'{{"reference": "Patient/{patient_id}"}}'
        for occasion in episode.occasions:
            authored = occasion.authored_at.isoformat()
            authored_db = bulk.db_datetime(occasion.authored_at)
            enrollment_id = None if occasion.occasion == Occasion.FOLLOW_UP else enrollment.pk
            for key in occasion.keys:
                instrument = instruments[key]
                share = (
                    episode.base[key]
                    + episode.slope * COURSE_WEIGHT.get(key, 0.0) * occasion.weeks
                    + occasion.drift
                    + rng.uniform(-0.06, 0.06)
                )
                level = min(top, max(0, round(share * top)))
                scored = instrument.scored(level, int(rng.random() * VARIANTS))
                rid = next_id
                next_id += 1
                # Ids, references and ISO times need no JSON escaping.
                resource = f'{{"id": "{rid}", "subject": {subject}, "authored": "{authored}"{scored.resource_rest}'
                responses.append(
                    (rid, patient_id, instrument.questionnaire.pk, enrollment_id, occasion.occasion, authored_db,
                     user_id, False, resource, scored.total, scored.band, scored.subscales, scored.critical_items,
                     scored.warnings, completed)
                )  # fmt: skip
                for suffix, system, code, value, rest in scored.observations:
                    observations.append(
                        (rid, system, code, value,
                         f'{{"id": "{rid}-{suffix}", "subject": {subject}, "effectiveDateTime": "{authored}", '
                         f'"derivedFrom": [{{"reference": "QuestionnaireResponse/{rid}"}}]{rest}')
                    )  # fmt: skip
            if len(responses) >= BATCH:
                done += _flush(responses, observations)
                if done >= next_report:
                    report(done, total)
                    next_report = (int(done * 10 / total) + 1) * total / 10
    done += _flush(responses, observations)
    bulk.ids_used(MeasureResponse)
    bulk.analyze(MeasureResponse, DerivedObservation)
    if total:
        report(done, total)


def _flush(responses: list[tuple[Any, ...]], observations: list[tuple[Any, ...]]) -> int:
    count = len(responses)
    bulk.insert(MeasureResponse, RESPONSE_FIELDS, responses)
    bulk.insert(DerivedObservation, OBSERVATION_FIELDS, observations)
    responses.clear()
    observations.clear()
    return count
