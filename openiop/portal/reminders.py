"""Session reminders: the day before and an hour before (OPENIOP_REMINDER_HOURS), by each person's chosen
channels. Run by `manage.py send_reminders` (cron, or `--loop`). Each (session, person, kind, channel) is
recorded in ReminderSent before it goes out, under a unique constraint, so running the command twice (or
two workers at once) never sends a reminder twice. Texts say only when: no session title, group, track,
diagnosis, measure or note."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from openiop.accounts.models import User
from openiop.outbox.services import queue_email
from openiop.portal import sms
from openiop.portal.models import Channel, Preferences, ReminderSent
from openiop.scheduling.models import Session, SessionStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    sent: int = 0
    skipped: int = 0
    failed: int = 0


def reminder_text(session: Session, lead_hours: int) -> tuple[str, str]:
    """Subject and body in the active language. Only the time: nothing about what the session is for."""
    local = timezone.localtime(session.starts_at)
    when = formats.date_format(local, "DATE_FORMAT")
    at = formats.time_format(local, "TIME_FORMAT")
    link = settings.SITE_URL + reverse("portal:today")
    if lead_hours >= 12:  # far enough ahead to name the day
        body = _("Reminder: you have an OpenIOP session on %(date)s at %(time)s.") % {"date": when, "time": at}
    else:
        body = _("Reminder: your OpenIOP session starts at %(time)s.") % {"time": at}
    body += " " + _("Sign in to see details and join: %(link)s") % {"link": link}
    return _("Session reminder"), body


def recipients(session: Session) -> list[User]:
    people = [a.patient.user for a in session.attendees.select_related("patient__user") if a.patient.user]
    people += list(session.family_guests.all())
    return [p for p in people if p.is_active]


def _claim(session: Session, user: User, kind: str, channel: str) -> bool:
    try:
        with transaction.atomic():
            ReminderSent.objects.create(session=session, user=user, kind=kind, channel=channel)
    except IntegrityError:
        return False
    return True


def send_due(now: datetime | None = None) -> Outcome:
    now = now or timezone.now()
    leads = sorted(settings.REMINDER_HOURS)  # e.g. [1, 24]
    sessions = Session.objects.filter(
        status=SessionStatus.SCHEDULED, starts_at__gt=now, starts_at__lte=now + timedelta(hours=max(leads))
    ).prefetch_related("family_guests")
    sent = skipped = failed = 0
    for session in sessions:
        # Only the most imminent reminder that is due: a session booked 30 minutes ahead gets the
        # hour-before one, not a late "tomorrow" one as well.
        lead = next(h for h in leads if session.starts_at - timedelta(hours=h) <= now)
        kind = f"{lead}h"
        for user in recipients(session):
            prefs = Preferences.objects.filter(user=user).first() or Preferences(user=user)
            with translation.override(prefs.language or settings.LANGUAGE_CODE):
                subject, body = reminder_text(session, lead)
            if prefs.remind_by_email and user.email:
                if _claim(session, user, kind, Channel.EMAIL):
                    with transaction.atomic():
                        queue_email(
                            to=user.email, subject=subject, body=body, purpose="reminder", program=session.program
                        )
                    sent += 1
                else:
                    skipped += 1
            if prefs.remind_by_sms and prefs.sms_number:
                if _claim(session, user, kind, Channel.SMS):
                    try:
                        sms.backend().send(prefs.sms_number, body)
                        sent += 1
                    except sms.SmsError:
                        log.exception("SMS reminder for session %s failed; it will be tried again", session.pk)
                        ReminderSent.objects.filter(session=session, user=user, kind=kind, channel=Channel.SMS).delete()
                        failed += 1
                else:
                    skipped += 1
    return Outcome(sent=sent, skipped=skipped, failed=failed)
