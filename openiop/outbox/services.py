"""The only way OpenIOP sends email.

`queue_email` stores the message inside the caller's transaction and asks for delivery after commit.
`deliver_due` (run by `manage.py send_outbox`) retries whatever is still waiting. Delivery is at least
once: a worker that dies mid-send leaves the message `sending`, and it is tried again after
`STALE_SENDING`. Email bodies must never carry clinical details: they say that something is waiting in
OpenIOP and link to it."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.accounts.models import Program, User
from openiop.audit import services as audit
from openiop.core.errors import ServiceError
from openiop.outbox.models import MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

# Minutes to wait after the 1st, 2nd, ... failed attempt.
BACKOFF_MINUTES = (1, 5, 15, 60, 240, 720)
STALE_SENDING = timedelta(minutes=10)


def queue_email(*, to: str, subject: str, body: str, purpose: str, program: Program | None = None) -> OutboxMessage:
    """Store one email to send once the surrounding transaction commits."""
    if not to:
        raise ValueError("queue_email needs an address")
    with transaction.atomic():
        message = OutboxMessage.objects.create(
            program=program,
            purpose=purpose[:50],
            to_address=to,
            subject=subject[:200],
            body=body,
            body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        )
    if settings.OUTBOX_SEND_ON_COMMIT:
        transaction.on_commit(lambda: deliver(message.pk))
    return message


def deliver(message_id: int) -> bool:
    """Try to send one due message now. True if it went out; never raises for a mail failure."""
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id)
        .filter(_due(now))
        .update(status=MessageStatus.SENDING, claimed_at=now)
    )
    if not claimed:
        return False  # sent already, not yet due, or another worker has it
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        EmailMessage(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.to_address]).send()
    except Exception as error:  # any transport error: keep the message and try again later
        log.warning("outbox message %s failed: %s", message.pk, error)
        attempts = message.attempts + 1
        gave_up = attempts >= settings.OUTBOX_MAX_ATTEMPTS
        wait = BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1]
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=attempts,
            status=MessageStatus.FAILED if gave_up else MessageStatus.PENDING,
            next_attempt_at=timezone.now() + timedelta(minutes=wait),
            last_error=f"{type(error).__name__}: {error}"[:500],
            claimed_at=None,
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=message.attempts + 1,
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
        body="",
        last_error="",
        claimed_at=None,
    )
    return True


def deliver_due(limit: int = 100) -> tuple[int, int]:
    """Send what is due (oldest first). Returns (sent, still waiting or failed)."""
    now = timezone.now()
    ids = list(
        OutboxMessage.objects.filter(_due(now)).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )
    sent = sum(1 for pk in ids if deliver(pk))
    return sent, len(ids) - sent


def retry(director: User, message_id: int) -> OutboxMessage:
    """A director asks for another try of a message that gave up."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update().filter(pk=message_id, program_id=director.program_pk).first()
        )
        if message is None or message.status != MessageStatus.FAILED:
            raise ServiceError(_("Only a message that failed can be tried again."))
        message.status = MessageStatus.PENDING
        message.next_attempt_at = timezone.now()
        message.attempts = 0
        message.save(update_fields=["status", "next_attempt_at", "attempts"])
        audit.record("update", actor=director, record=message, detail={"retry": True})
    transaction.on_commit(lambda: deliver(message.pk))
    return message


def _due(now: object) -> Q:
    return Q(status=MessageStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=MessageStatus.SENDING, claimed_at__lt=timezone.now() - STALE_SENDING
    )
