"""Email that is never lost: queued with the change, sent after commit, retried, visible when it fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from openiop.accounts import services as accounts
from openiop.audit.models import AuditEntry
from openiop.outbox import services
from openiop.outbox.models import MessageStatus, OutboxMessage
from tests.conftest import World

REFUSING_SMTP = {  # a real SMTP connection to a port where nothing listens: a genuine transport failure
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2, "use_tls": False},
    }
}


@pytest.fixture
def refusing_smtp(settings):
    settings.MAILERS = REFUSING_SMTP
    return settings


def test_a_rolled_back_change_sends_nothing(world: World, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.queue_email(to="a@example.org", subject="Hi", body="x", purpose="test", program=world.harborview)
        raise RuntimeError
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_a_committed_message_goes_out_once_and_its_body_is_discarded(
    world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = services.queue_email(
            to="a@example.org", subject="Hello", body="one-time link abc", purpose="test", program=world.harborview
        )
    assert [m.subject for m in mail.outbox] == ["Hello"] and mail.outbox[0].to == ["a@example.org"]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 1 and message.sent_at is not None
    assert message.body == "" and len(message.body_sha256) == 64
    assert services.deliver(message.pk) is False  # already sent: never twice
    assert services.deliver_due() == (0, 0)
    assert len(mail.outbox) == 1


def test_a_failed_send_is_kept_retried_with_backoff_and_then_sent(
    world: World, refusing_smtp, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = services.queue_email(
            to="a@example.org", subject="S", body="B", purpose="test", program=world.harborview
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING and message.attempts == 1
    assert "Connection" in message.last_error or "refused" in message.last_error.lower()
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=50)  # backs off a minute
    assert services.deliver_due() == (0, 0)  # not due yet
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    refusing_smtp.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert services.deliver_due() == (1, 0)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2 and message.body == ""
    assert [m.body for m in mail.outbox] == ["B"]


def test_after_the_last_try_a_failure_waits_for_the_director_who_can_retry(
    world: World, refusing_smtp, client_for, django_capture_on_commit_callbacks
) -> None:
    refusing_smtp.OUTBOX_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        message = services.queue_email(
            to="carla@example.org", subject="Reminder", body="secret-link", purpose="test", program=world.harborview
        )
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert services.deliver_due() == (0, 1)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.attempts == 2

    dora = client_for(world.dora)
    page = dora.get(reverse("outbox"))
    assert page.status_code == 200
    assert b"carla@example.org" in page.content and b"Failed" in page.content
    assert b"secret-link" not in page.content  # bodies (one-time links) are never shown
    assert client_for(world.otto).get(reverse("outbox")).content.count(b"carla@example.org") == 0

    refusing_smtp.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        response = dora.post(reverse("outbox_retry", args=[message.pk]))
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert AuditEntry.objects.filter(
        record_type="outbox.outboxmessage", record_id=str(message.pk), actor=world.dora
    ).exists()
    # Another program's director cannot retry it, and a sent message cannot be retried.
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.otto).post(reverse("outbox_retry", args=[message.pk]))
    assert len(mail.outbox) == 1


def test_a_worker_that_died_mid_send_does_not_strand_the_message(world: World) -> None:
    message = services.queue_email(to="a@example.org", subject="S", body="B", purpose="test")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=timezone.now() - timedelta(minutes=30)
    )
    call_command("send_outbox")
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and len(mail.outbox) == 1


def test_send_outbox_command_reports_and_rejects_a_bad_interval(world: World, capsys) -> None:
    services.queue_email(to="a@example.org", subject="S", body="B", purpose="test")  # no commit hook in this test
    call_command("send_outbox")
    assert "1 sent, 0 still waiting" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        call_command("send_outbox", "--loop", "--interval", "0")
    assert exit_info.value.code == 2


def test_staff_invitations_go_through_the_outbox(world: World, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        accounts.invite_staff(
            world.dora,
            username="nina",
            first_name="Nina",
            last_name="Newhire",
            email="nina@example.org",
            role="clinician",
        )
    message = OutboxMessage.objects.get(to_address="nina@example.org")
    assert message.purpose == "invitation" and message.program == world.harborview
    assert message.status == MessageStatus.SENT
    assert "/accounts/invitation/" in mail.outbox[0].body
