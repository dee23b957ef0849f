"""Where the portal points at features other apps build (intake's referral form, rooms, measures,
treatment plans, the iCal feed). Each is one small function: when that app lands, re-point it here and
every page follows. Until then each returns None and the page says "not available yet"."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from openiop.accounts.models import Program, User
from openiop.intake.models import Patient
from openiop.intake.queries import current_enrollment
from openiop.measures.queries import DueMeasure, due_measures
from openiop.scheduling.models import Session
from openiop.treatment.queries import plan_in_force

# URL names the other branches are expected to use; the first that exists wins.
ROOM_JOIN_NAMES = ("rooms:join", "rooms:room")


def optional_url(names: tuple[str, ...], **kwargs: Any) -> str | None:
    for name in names:
        try:
            return reverse(name, kwargs=kwargs or None)
        except NoReverseMatch:
            continue
    return None


def self_referral_url(program: Program, params: list[tuple[str, str]] | None = None) -> str:
    """Our own stable address for "refer yourself"; it forwards to intake's form once that exists."""
    url = reverse("portal:self_referral", kwargs={"slug": program.slug})
    return f"{url}?{urlencode(params)}" if params else url


def referral_form_url(program: Program) -> str:
    """Intake's public self-referral form; it reads the track finder's answers from the query string."""
    return reverse("referrals:refer", kwargs={"program_slug": program.slug})


def room_join_url(session: Session) -> str | None:
    """The video room for a session (issue 5), or None while rooms are not on this branch."""
    return optional_url(ROOM_JOIN_NAMES, session_id=session.pk)


def measures_due(patient: Patient) -> list[DueMeasure]:
    """Check-in questionnaires waiting for the patient (openiop/measures schedules)."""
    return due_measures(patient, current_enrollment(patient), timezone.localdate())


def plan_goals(patient: Patient) -> list[str]:
    """The goals of the patient's treatment plan in force (openiop/treatment), as written with them."""
    enrollment = current_enrollment(patient)
    plan = plan_in_force(enrollment) if enrollment is not None else None
    return [goal.description for goal in plan.goals.all()] if plan is not None else []


def calendar_feed_url(user: User) -> str | None:
    """The person's private iCal feed (issue 9); None: not available yet."""
    return None
