"""The director's figures, each with the list of records behind it (for drill-down).

Every function takes the program and a `Filters` and returns plain data; access has been decided by the
view (directors only). Weeks start on Monday."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet

from openiop.accounts.models import Program
from openiop.intake.models import Enrollment, EnrollmentStatus
from openiop.safety.models import AlertStatus, SafetyAlert
from openiop.scheduling.models import Track


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    track: Track | None = None

    def enrollments(self, program: Program) -> QuerySet[Enrollment]:
        rows = Enrollment.objects.filter(patient__program=program).exclude(status=EnrollmentStatus.ENTERED_IN_ERROR)
        return rows.filter(track=self.track) if self.track is not None else rows


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
    counts: dict[date, int] = {}
    for day in rows.values_list(field, flat=True):
        counts[week_start(day)] = counts.get(week_start(day), 0) + 1
    return [(week, counts.get(week, 0)) for week in weeks(filters)]


def open_alerts(program: Program) -> QuerySet[SafetyAlert]:
    return SafetyAlert.objects.filter(program=program).exclude(status=AlertStatus.RESOLVED)
