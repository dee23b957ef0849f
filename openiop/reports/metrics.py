"""The director's figures, each with the list of records behind it (for drill-down).

Every function takes the program and a `Filters` and returns plain data; access has been decided by the
view (directors only). Weeks start on Monday.

The dashboard's figures are counted by the database, one grouped query each, over rows an index finds within
the period (the indexes on Enrollment, Attendance, Session and Referral; the attendance rate reads the tally
rooms.AttendanceTally): at 10,000 patients the page costs about what it does at 100. Python only folds the
groups (at most one per day or per session start time) into weeks. See docs/architecture.md, "The dashboard".
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from openiop.accounts.models import Program
from openiop.intake.models import Enrollment, EnrollmentStatus
from openiop.measures import conf as measures_conf
from openiop.measures import scoring
from openiop.measures.models import MeasureResponse
from openiop.referrals.models import OPEN_STATUSES, Referral
from openiop.reports import billing, outcomes
from openiop.rooms.models import Attendance, AttendanceStatus, AttendanceTally
from openiop.safety.models import AlertStatus, SafetyAlert
from openiop.scheduling.models import Population, Session, SessionStatus, Track
from openiop.treatment.models import DischargeReason, DischargeSummary, NoteStatus


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    track: Track | None = None

    def enrollments(self, program: Program) -> QuerySet[Enrollment]:
        """The program's episodes, found through their track (a track belongs to one program, and
        `referrals.services.enroll` only enrolls a patient in a track of the patient's own program), so that
        the index on (track, status, start_date, end_date, patient) answers without reading patients."""
        rows = Enrollment.objects.filter(track__program=program).exclude(status=EnrollmentStatus.ENTERED_IN_ERROR)
        return rows.filter(track=self.track) if self.track is not None else rows


def local_days(first: date, last: date) -> tuple[datetime, datetime]:
    """The start of local day `first` and of the day after `last`: `starts_at >= since and < until` is the
    same as a `starts_at__date__range=(first, last)` that the (program, starts_at) index can answer (the
    `__date` lookup converts each row's time to the local zone before comparing)."""
    since = timezone.make_aware(datetime.combine(first, time.min))
    until = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    return since, until


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(filters: Filters) -> list[date]:
    first, last = week_start(filters.start), week_start(filters.end)
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def in_treatment_on(day: date) -> Q:
    """Enrollments in treatment on `day`: started, not ended, active or on hold (or since finished)."""
    return (
        Q(start_date__lte=day)
        & (Q(end_date__isnull=True) | Q(end_date__gte=day))
        & Q(status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.ONHOLD, EnrollmentStatus.FINISHED])
    )


def census_by_track(program: Program, filters: Filters, day: date) -> list[tuple[Track, int]]:
    counts = dict(
        filters.enrollments(program)
        .filter(in_treatment_on(day))
        .values_list("track")
        .annotate(n=Count("patient", distinct=True))
    )
    tracks = Track.objects.filter(program=program).order_by("name")
    if filters.track is not None:
        tracks = tracks.filter(pk=filters.track.pk)
    return [(track, counts.get(track.pk, 0)) for track in tracks]


def census_patients(program: Program, filters: Filters, day: date, track: Track) -> QuerySet[Enrollment]:
    return filters.enrollments(program).filter(in_treatment_on(day), track=track)


def admissions(program: Program, filters: Filters) -> QuerySet[Enrollment]:
    """Episodes that started in the period (planned, waiting and cancelled ones never started)."""
    started = [EnrollmentStatus.ACTIVE, EnrollmentStatus.ONHOLD, EnrollmentStatus.FINISHED]
    return filters.enrollments(program).filter(status__in=started, start_date__range=(filters.start, filters.end))


def discharges(program: Program, filters: Filters) -> QuerySet[Enrollment]:
    return filters.enrollments(program).filter(
        status=EnrollmentStatus.FINISHED, end_date__range=(filters.start, filters.end)
    )


def per_week(rows: QuerySet[Enrollment], field: str, filters: Filters) -> list[tuple[date, int]]:
    """Counted per day by the database (one row per day of the period at most), folded into weeks here."""
    counts: dict[date, int] = {}
    for day, count in rows.order_by().values_list(field).annotate(count=Count("pk")):
        counts[week_start(day)] = counts.get(week_start(day), 0) + count
    return [(week, counts.get(week, 0)) for week in weeks(filters)]


def open_alerts(program: Program) -> QuerySet[SafetyAlert]:
    return SafetyAlert.objects.filter(program=program).exclude(status=AlertStatus.RESOLVED)


# --- the outcome report --------------------------------------------------------------------------------------

OUTCOME_MEASURES = ("phq9", "gad7")
OUTCOME_LABELS = {"phq9": "PHQ-9", "gad7": "GAD-7"}


@dataclass(frozen=True)
class OutcomeReport:
    filters: Filters
    admitted: outcomes.Shown
    discharged: outcomes.Shown
    completion: outcomes.Shown
    mean_hours: outcomes.Shown
    measures: list[outcomes.MeasureOutcome]


def score_pairs(enrollment_ids: list[int], instrument_key: str) -> list[outcomes.Pair]:
    """First and last scored response of each episode (at least two), for one instrument."""
    rows = (
        MeasureResponse.objects.filter(
            enrollment_id__in=enrollment_ids,
            questionnaire__instrument_key=instrument_key,
            status=MeasureResponse.Status.COMPLETED,
            total__isnull=False,
        )
        .order_by("enrollment_id", "authored_at", "pk")
        .values_list("enrollment_id", "total")
    )
    by_episode: dict[int, list[int]] = {}
    for enrollment_id, total in rows:
        if enrollment_id is not None and total is not None:
            by_episode.setdefault(enrollment_id, []).append(total)
    return [outcomes.Pair(totals[0], totals[-1]) for totals in by_episode.values() if len(totals) >= 2]


def outcome_report(program: Program, filters: Filters) -> OutcomeReport:
    """Admissions in the period; completion, hours and measure change for the episodes discharged in it."""
    minimum = settings.REPORT_MINIMUM_CELL
    discharged = list(discharges(program, filters).values_list("pk", flat=True))
    summaries = list(
        DischargeSummary.objects.filter(enrollment_id__in=discharged).values_list("reason", "hours_attended")
    )
    completed = sum(1 for reason, _hours in summaries if reason == DischargeReason.COMPLETED)
    thresholds = measures_conf.thresholds()
    measure_rows = []
    for key in OUTCOME_MEASURES:
        instrument = scoring.INSTRUMENTS[key]
        measure_rows.append(
            outcomes.measure_outcome(
                OUTCOME_LABELS[key],
                score_pairs(discharged, key),
                reliable_change=thresholds.reliable_change.get(key),
                higher_is_better=instrument.higher_is_better,
                response_drop_percent=thresholds.response_drop_percent,
                remission_below=thresholds.phq9_remission_below if key == "phq9" else None,
                minimum_cell=minimum,
            )
        )
    return OutcomeReport(
        filters=filters,
        admitted=outcomes.count(admissions(program, filters).values("patient").distinct().count(), minimum),
        discharged=outcomes.count(len(discharged), minimum),
        completion=outcomes.proportion(completed, len(summaries), minimum),
        mean_hours=outcomes.mean([float(hours) for _reason, hours in summaries], minimum),
        measures=measure_rows,
    )


# --- per-diem billing -----------------------------------------------------------------------------------------

NO_PAYER = "Unknown payer"


def billing_codes() -> billing.Codes:
    return billing.Codes(
        hcpcs_substance_use=settings.BILLING_HCPCS_SUBSTANCE_USE,
        hcpcs_mental_health=settings.BILLING_HCPCS_MENTAL_HEALTH,
        revenue_substance_use=settings.BILLING_REVENUE_SUBSTANCE_USE,
        revenue_mental_health=settings.BILLING_REVENUE_MENTAL_HEALTH,
        min_minutes_substance_use=settings.BILLING_MIN_MINUTES_SUBSTANCE_USE,
    )


def billed_days(program: Program, filters: Filters) -> list[billing.BilledDay]:
    """Every patient-day in the period with a recorded attendance, evaluated."""
    rows = (
        Attendance.objects.filter(
            session__program=program, session__starts_at__date__range=(filters.start, filters.end)
        )
        .exclude(status=AttendanceStatus.ENTERED_IN_ERROR)
        .select_related("session", "session__note", "patient")
        .order_by("patient_id", "session__starts_at")
    )
    if filters.track is not None:
        rows = rows.filter(patient__enrollments__track=filters.track).distinct()
    patient_ids = {row.patient_id for row in rows}
    payers = dict(
        Referral.objects.filter(patient_id__in=patient_ids).exclude(insurance="").values_list("patient_id", "insurance")
    )
    episodes: dict[int, list[Enrollment]] = {}
    for enrollment in Enrollment.objects.filter(patient_id__in=patient_ids).select_related("track"):
        episodes.setdefault(enrollment.patient_id, []).append(enrollment)
    days: dict[tuple[int, date], list[Attendance]] = {}
    for row in rows:
        days.setdefault((row.patient_id, timezone.localtime(row.session.starts_at).date()), []).append(row)
    codes = billing_codes()
    out = []
    for (patient_id, day), attended in days.items():
        focus = next(
            (
                e.track.focus
                for e in episodes.get(patient_id, [])
                if e.start_date <= day and (e.end_date is None or e.end_date >= day)
            ),
            "",
        )
        services = []
        for row in attended:
            note = getattr(row.session, "note", None)
            present = row.status in (AttendanceStatus.ATTENDED, AttendanceStatus.LATE, AttendanceStatus.PARTIAL)
            services.append(
                billing.Service(
                    session_id=row.session_id,
                    kind=row.session.kind,
                    minutes=row.seconds_present // 60 if present else 0,
                    note_signed=note is not None and note.status == NoteStatus.SIGNED,
                )
            )
        patient = attended[0].patient
        out.append(
            billing.evaluate(
                billing.PatientDay(
                    patient_id, patient.record_number, day, focus, payers.get(patient_id, NO_PAYER), services
                ),
                codes,
            )
        )
    return sorted(out, key=lambda b: (b.day.payer, b.day.record_number, b.day.day))


# --- waitlist, attendance, dose, notes ---------------------------------------------------------------------------

PRESENT = (AttendanceStatus.ATTENDED, AttendanceStatus.LATE, AttendanceStatus.PARTIAL)


@dataclass(frozen=True)
class Waitlist:
    waiting: int
    median_days: float | None
    longest_days: int | None


def open_referrals(program: Program) -> QuerySet[Referral]:
    return Referral.objects.filter(program=program, status__in=OPEN_STATUSES).order_by("created_at", "pk")


def waitlist(program: Program, day: date) -> Waitlist:
    """Days waited fall as `created_at` rises, so the median wait is that of the middle referral(s) by
    `created_at` and the longest that of the oldest: two queries, whatever the length of the list."""
    referrals = open_referrals(program)
    summary = referrals.aggregate(waiting=Count("pk"), oldest=Min("created_at"))
    waiting, oldest = summary["waiting"], summary["oldest"]
    if not waiting:
        return Waitlist(0, None, None)

    def waited(created: datetime) -> int:
        return (day - timezone.localtime(created).date()).days

    middle = referrals.values_list("created_at", flat=True)[(waiting - 1) // 2 : waiting // 2 + 1]
    return Waitlist(waiting, statistics.median([waited(created) for created in middle]), waited(oldest))


def attendance_rows(program: Program, filters: Filters) -> QuerySet[Attendance]:
    """Attendance at the program's sessions that started in the period; with a track, only of patients with
    an episode in that track (a semi-join: a patient with two episodes in the track is counted once)."""
    since, until = local_days(filters.start, filters.end)
    rows = Attendance.objects.filter(
        session__program=program, session__starts_at__gte=since, session__starts_at__lt=until
    ).exclude(status=AttendanceStatus.ENTERED_IN_ERROR)
    if filters.track is not None:
        rows = rows.filter(patient__in=filters.enrollments(program).values("patient_id"))
    return rows


def attendance_per_week(program: Program, filters: Filters) -> list[tuple[date, int, int]]:
    """(week, present, expected) per week: present = attended, late or partial. Counted per session start
    time, folded into local weeks here. For the whole program the counts per start time are the ones the
    database keeps as attendance is written (rooms.AttendanceTally: a few rows a week at any size); for one
    track they are counted from that track's patients' attendance."""
    per_start: QuerySet[Any, tuple[datetime, int, int]]
    if filters.track is None:
        since, until = local_days(filters.start, filters.end)
        per_start = AttendanceTally.objects.filter(
            program=program, starts_at__gte=since, starts_at__lt=until
        ).values_list("starts_at", "present", "expected")
    else:
        per_start = (
            attendance_rows(program, filters)
            .values_list("session__starts_at")
            .annotate(present=Count("pk", filter=Q(status__in=PRESENT)), expected=Count("pk"))
            .order_by()
        )
    counts: dict[date, list[int]] = {}
    for starts_at, present, expected in per_start:  # one row per start time: sessions share their slots
        entry = counts.setdefault(week_start(timezone.localtime(starts_at).date()), [0, 0])
        entry[0] += present
        entry[1] += expected
    return [(week, counts.get(week, [0, 0])[0], counts.get(week, [0, 0])[1]) for week in weeks(filters)]


@dataclass(frozen=True)
class DoseRow:
    enrollment: Enrollment
    hours: float
    required: int


def dose_last_week(program: Program, filters: Filters) -> tuple[date, list[DoseRow]]:
    """Patients in treatment for the whole last full week up to `filters.end`, with the hours they attended."""
    monday, sunday = _last_full_week(filters)
    enrollments = list(
        filters.enrollments(program)
        .filter(in_treatment_on(monday) & in_treatment_on(sunday))
        .select_related("patient", "track")
    )
    since, until = local_days(monday, sunday)
    seconds: dict[int, int] = {}
    attended = Attendance.objects.filter(
        patient__in=[e.patient_id for e in enrollments],
        status__in=PRESENT,
        session__starts_at__gte=since,
        session__starts_at__lt=until,
    ).values_list("patient_id", "seconds_present")
    for patient_id, present in attended:
        seconds[patient_id] = seconds.get(patient_id, 0) + present
    rows = []
    for enrollment in enrollments:
        adolescent = enrollment.track.population == "adolescent"
        required = settings.IOP_MIN_HOURS_ADOLESCENT if adolescent else settings.IOP_MIN_HOURS_ADULT
        rows.append(DoseRow(enrollment, round(seconds.get(enrollment.patient_id, 0) / 3600, 1), required))
    return monday, rows


def _last_full_week(filters: Filters) -> tuple[date, date]:
    monday = week_start(filters.end) - timedelta(weeks=1)
    return monday, monday + timedelta(days=6)


def dose_counts(program: Program, filters: Filters) -> tuple[date, int, int]:
    """(monday, in treatment all that week, of whom attended their weekly minimum), counted by the database:
    one query for the patients in treatment, and one per minimum (adolescents, adults) for those of them
    whose present seconds that week add up to it."""
    monday, sunday = _last_full_week(filters)
    since, until = local_days(monday, sunday)
    in_treatment = filters.enrollments(program).filter(in_treatment_on(monday) & in_treatment_on(sunday))
    total = in_treatment.values("patient_id", "track__population").distinct().count()
    adolescents = in_treatment.filter(track__population=Population.ADOLESCENT)
    adults = in_treatment.exclude(track__population=Population.ADOLESCENT)
    at_dose = 0
    for episodes, hours in ((adolescents, settings.IOP_MIN_HOURS_ADOLESCENT), (adults, settings.IOP_MIN_HOURS_ADULT)):
        # The minimum is at least one hour (settings.py), so a patient who never came is below it.
        at_dose += (
            Attendance.objects.filter(
                session__program=program,
                session__starts_at__gte=since,
                session__starts_at__lt=until,
                status__in=PRESENT,
                patient__in=episodes.values("patient_id"),
            )
            .values("patient_id")
            .annotate(total=Sum("seconds_present"))
            .filter(total__gte=hours * 3600)
            .order_by()
            .count()
        )
    return monday, total, at_dose


def overdue_notes(program: Program, now: datetime | None = None) -> QuerySet[Session]:
    """Sessions that ended more than NOTE_SIGN_HOURS ago and were not cancelled, without a signed note."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.NOTE_SIGN_HOURS)
    return (
        Session.objects.filter(program=program, ends_at__lt=cutoff)
        .exclude(status=SessionStatus.CANCELLED)
        .exclude(note__status=NoteStatus.SIGNED)
        .order_by("starts_at", "pk")
    )
