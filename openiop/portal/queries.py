"""Read helpers for the portal pages. Access is decided (and audited) before these run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from openiop.accounts.models import Program, User
from openiop.intake import queries as intake_queries
from openiop.intake.models import Patient
from openiop.portal.models import CareMessage, Preferences, ProgramPage, TrackListing
from openiop.scheduling.models import Population, Session, SessionKind, SessionStatus, Track


def sessions_of(patient: Patient) -> QuerySet[Session]:
    return (
        Session.objects.filter(attendees__patient=patient)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("track", "therapy_group")
        .distinct()
    )


def upcoming_sessions(patient: Patient, now: datetime, limit: int = 20) -> list[Session]:
    return list(sessions_of(patient).filter(ends_at__gte=now).order_by("starts_at")[:limit])


def room_opens_at(session: Session) -> datetime:
    return session.starts_at - timedelta(minutes=settings.ROOM_OPENS_MINUTES_BEFORE)


@dataclass(frozen=True)
class WeekHours:
    scheduled: float  # hours of sessions this week (Monday to Sunday), cancelled ones left out
    target: int  # the IOP minimum for the patient's population (REFERENCE.md)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.scheduled / self.target)) if self.target else 0


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_hours(patient: Patient, today: date) -> WeekHours:
    tz = timezone.get_current_timezone()
    start = datetime.combine(week_start(today), datetime.min.time(), tzinfo=tz)
    minutes = sum(
        s.minutes for s in sessions_of(patient).filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=7))
    )
    enrollment = intake_queries.current_enrollment(patient)
    adolescent = enrollment is not None and enrollment.track.population == Population.ADOLESCENT
    target = settings.IOP_WEEKLY_HOURS_ADOLESCENT if adolescent else settings.IOP_WEEKLY_HOURS_ADULT
    return WeekHours(scheduled=round(minutes / 60, 1), target=target)


def family_sessions(patient: Patient, now: datetime) -> list[Session]:
    return [s for s in upcoming_sessions(patient, now) if s.kind == SessionKind.FAMILY]


def messages_of(patient: Patient) -> QuerySet[CareMessage]:
    return CareMessage.objects.filter(patient=patient).select_related("author")


def unread_for_patient(patient: Patient) -> int:
    return CareMessage.objects.filter(patient=patient, from_patient=False, read_at__isnull=True).count()


def preferences_of(user: User) -> Preferences:
    prefs = Preferences.objects.filter(user=user).first()
    return prefs if prefs is not None else Preferences(user=user)


def published_page(slug: str) -> ProgramPage | None:
    return ProgramPage.objects.filter(program__slug=slug, published=True).select_related("program").first()


def public_tracks(program: Program) -> list[Track]:
    listed = TrackListing.objects.filter(track__program=program).select_related("track")
    return [listing.track for listing in listed.order_by("track__name")]


@dataclass(frozen=True)
class SessionCard:
    session: Session
    opens_at: datetime
    join_url: str | None  # None: video rooms are not available yet

    @property
    def is_open(self) -> bool:
        return self.opens_at <= timezone.now() < self.session.ends_at


def session_cards(sessions: list[Session]) -> list[SessionCard]:
    from openiop.portal.links import room_join_url

    return [SessionCard(session=s, opens_at=room_opens_at(s), join_url=room_join_url(s)) for s in sessions]
