from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Bulk changes are refused too; only raw SQL can alter the log, and
    verify_audit finds that."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """One read or write of a record, by whom, from where, when.

    Append-only: the model refuses updates and deletes, and each entry carries
    the hash of the one before it (openiop.audit.chain), so a change made
    behind the application's back is found by `manage.py verify_audit`."""

    class Action(models.TextChoices):
        READ = "read", _("Read")
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        BREAK_GLASS = "break-glass", _("Break-glass access")
        SIGN_IN = "sign-in", _("Signed in")
        SIGN_IN_FAILED = "sign-in-failed", _("Sign-in failed")
        SIGN_OUT = "sign-out", _("Signed out")

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Snapshots, so the entry still says who it was if a name changes.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    record_type = models.CharField(max_length=60)
    record_id = models.CharField(max_length=64, blank=True)
    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    detail = models.JSONField(default=dict, blank=True)
    # Text, not an inet column: the value must come back exactly as it was
    # hashed (PostgreSQL rewrites some IPv6 forms). Normalised before storing.
    client_address = models.CharField(max_length=45, null=True, blank=True)
    flagged = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["patient", "-seq"]), models.Index(fields=["program", "-seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.record_type} {self.record_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries cannot be deleted.")


class AuditHead(models.Model):
    """The newest entry's number and hash: one row, locked while an entry is
    appended so that concurrent writers form one chain, not a fork."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit head #{self.last_seq}"
