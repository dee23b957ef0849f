"""Integrations that read the program's data over the FHIR R4 API, and their bulk exports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    """Why an integration receives data (HL7 v3 ActReason codes, as in FHIR Consent.provision.purpose)."""

    TREATMENT = "TREAT", _("Treatment")
    PAYMENT = "HPAYMT", _("Payment")
    OPERATIONS = "HOPERAT", _("Health care operations")


PURPOSE_WORDS = {
    Purpose.TREATMENT: "treatment",
    Purpose.PAYMENT: "payment",
    Purpose.OPERATIONS: "health care operations",
}


class ApiClient(models.Model):
    """One integration (a billing system, a state reporting feed, an HIE). It authenticates with
    `Authorization: Bearer <client_id>.<secret>`; only a SHA-256 of the secret is stored.

    Its recipient identity (the organization and the purposes it receives data for) is what a patient's
    42 CFR Part 2 consent names: only an integration offered for Part 2 (`receives_part2`) can be named, and
    only a consent naming it, with purposes covering its own, releases a Part 2 patient to it (part2.py)."""

    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="api_clients")
    name = models.CharField(_("name"), max_length=100)
    client_id = models.CharField(max_length=32, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    # SMART-style system scopes, e.g. ["system/Patient.read", "system/Observation.read"] or ["system/*.read"].
    scopes = models.JSONField(default=list)
    recipient_name = models.CharField(_("organization that receives the data"), max_length=200, blank=True)
    purposes = models.JSONField(default=list)  # Purpose values, e.g. ["HPAYMT"]
    receives_part2 = models.BooleanField(_("offered on the 42 CFR Part 2 consent"), default=False)
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

    @property
    def purpose_labels(self) -> str:
        """The purposes in the reader's language, for pages (the consent text itself is English)."""
        return ", ".join(str(Purpose(code).label) for code in Purpose.values if code in self.purposes)

    @property
    def purpose_words(self) -> str:
        """ "payment and health care operations": the purposes as the consent text names them."""
        words = [PURPOSE_WORDS[Purpose(code)] for code in Purpose.values if code in self.purposes]
        return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


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
