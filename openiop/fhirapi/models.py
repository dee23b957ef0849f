"""Integrations that read the program's data over the FHIR R4 API, and their bulk exports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiClient(models.Model):
    """One integration (a billing system, a state reporting feed, an HIE). It authenticates with
    `Authorization: Bearer <client_id>.<secret>`; only a SHA-256 of the secret is stored."""

    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="api_clients")
    name = models.CharField(_("name"), max_length=100)
    client_id = models.CharField(max_length=32, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    # SMART-style system scopes, e.g. ["system/Patient.read", "system/Observation.read"] or ["system/*.read"].
    scopes = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def allows(self, resource_type: str) -> bool:
        return f"system/{resource_type}.read" in self.scopes or "system/*.read" in self.scopes


class ExportStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    RUNNING = "running", _("Running")
    COMPLETE = "complete", _("Complete")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ExportJob(models.Model):
    """A Bulk Data `$export`: NDJSON files written in the background, one per resource type."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="exports")
    resource_types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.ACCEPTED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    outputs = models.JSONField(default=list)  # [{"type": "Patient", "count": 12}]
    error = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"
