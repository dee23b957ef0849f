"""Session reminders: the day before and an hour before, by email (outbox) and text (SMS backend),
sent once only, in the person's language, with nothing clinical in them."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from openiop.outbox.models import OutboxMessage
from openiop.portal import reminders
from openiop.portal.models import Preferences, ReminderSent
from openiop.portal.sms import MemoryBackend
from openiop.scheduling.models import Session, SessionAttendee, SessionKind, SessionStatus
from tests.conftest import World

CLINICAL_WORDS = (
    "relapse",
    "triggers",
    "craving",
    "depress",
    "PHQ",
    "GAD",
    "alcohol",
    "substance",
    "Adult SU",
    "group",
)


@pytest.fixture(autouse=True)
def sms(settings) -> list[tuple[str, str]]:
    settings.SMS_BACKEND = "openiop.portal.sms.MemoryBackend"
    settings.REMINDER_HOURS = [1, 24]
    MemoryBackend.outbox = []
    return MemoryBackend.outbox


def make_session(world: World, starts_in: timedelta, kind: str = SessionKind.GROUP) -> Session:
    starts = timezone.now() + starts_in
    session = Session.objects.create(
        program=world.harborview, kind=kind, track=world.track, title="Relapse prevention: triggers and cravings",
        module="relapse-triggers", starts_at=starts, ends_at=starts + timedelta(hours=3),
    )  # fmt: skip
    SessionAttendee.objects.create(session=session, patient=world.pat)
    return session


def run() -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


def test_day_before_reminder_once_by_email_and_text(world: World, sms) -> None:
    make_session(world, timedelta(hours=20))
    Preferences.objects.create(user=world.pat_user, remind_by_sms=True, sms_number="617-555-0199")
    assert "reminders sent: 2" in run()
    email = OutboxMessage.objects.get(purpose="reminder")
    assert email.to_address == world.pat_user.email
    assert sms == [("617-555-0199", email.body)]
    assert "Reminder: you have an OpenIOP session on" in email.body
    # Running again (cron every few minutes) sends nothing new.
    assert "reminders sent: 0, already sent: 2" in run()
    assert OutboxMessage.objects.filter(purpose="reminder").count() == 1 and len(sms) == 1
    assert ReminderSent.objects.count() == 2


def test_hour_before_reminder_follows_and_a_late_booking_gets_only_that_one(world: World, sms) -> None:
    session = make_session(world, timedelta(hours=20))
    run()
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() + timedelta(minutes=40))
    late = make_session(world, timedelta(minutes=30))
    run()
    kinds = sorted(ReminderSent.objects.values_list("session_id", "kind"))
    assert kinds == sorted([(session.pk, "24h"), (session.pk, "1h"), (late.pk, "1h")])


@pytest.mark.parametrize("language", ["en", "es", "pt-br", "ht"])
def test_reminder_texts_contain_nothing_clinical(world: World, language: str) -> None:
    session = make_session(world, timedelta(hours=2))
    for lead in (24, 1):
        from django.utils import translation

        with translation.override(language):
            subject, body = reminders.reminder_text(session, lead)
        text = (subject + " " + body).lower()
        for word in CLINICAL_WORDS:
            assert word.lower() not in text, (language, lead, word)
        assert world.track.name.lower() not in text and world.pat.family_name.lower() not in text


def test_reminders_use_the_persons_language(world: World) -> None:
    make_session(world, timedelta(minutes=50))
    Preferences.objects.create(user=world.pat_user, language="es")
    run()
    assert OutboxMessage.objects.get(purpose="reminder").body.startswith("Recordatorio: su sesión de OpenIOP")


def test_family_guests_are_reminded_and_cancelled_sessions_are_not(world: World) -> None:
    family = make_session(world, timedelta(hours=5), kind=SessionKind.FAMILY)
    family.family_guests.add(world.fay)
    cancelled = make_session(world, timedelta(hours=3))
    Session.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)
    Preferences.objects.create(user=world.pat_user, remind_by_email=False)
    run()
    assert list(OutboxMessage.objects.values_list("to_address", flat=True)) == [world.fay.email]


def test_a_failed_text_is_tried_again_next_time(world: World, settings, monkeypatch) -> None:
    from openiop.portal import sms as sms_module

    make_session(world, timedelta(hours=2))
    Preferences.objects.create(user=world.pat_user, remind_by_email=False, remind_by_sms=True, sms_number="6175550199")

    def fail(self, to: str, text: str) -> None:
        raise sms_module.SmsError("gateway down")

    monkeypatch.setattr(MemoryBackend, "send", fail)
    assert "failed: 1" in run()
    assert not ReminderSent.objects.exists()
    monkeypatch.undo()
    settings.SMS_BACKEND = "openiop.portal.sms.MemoryBackend"
    MemoryBackend.outbox = []
    assert "reminders sent: 1" in run()
    assert len(MemoryBackend.outbox) == 1


def test_each_configured_lead_time_is_its_own_reminder(world: World, settings) -> None:
    settings.REMINDER_HOURS = [24, 48]
    session = make_session(world, timedelta(hours=40))
    run()
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() + timedelta(hours=20))
    run()
    assert sorted(ReminderSent.objects.values_list("kind", flat=True)) == ["24h", "48h"]
