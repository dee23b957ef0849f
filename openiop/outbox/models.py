"""Email that is never lost: every message is a row first, sent after commit, retried until it goes."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed: gave up")


class OutboxMessage(models.Model):
    """One email. Queued in the same transaction as the change that causes it, so a rolled-back change sends
    nothing and a committed one is never forgotten. The body is discarded once sent (it may hold a one-time
    link); its SHA-256 stays."""

    program = models.ForeignKey(
        "accounts.Program", on_delete=models.PROTECT, related_name="outbox_messages", null=True, blank=True
    )
    purpose = models.CharField(_("purpose"), max_length=50)
    to_address = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(blank=True)
    body_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} to {self.to_address} ({self.status})"
