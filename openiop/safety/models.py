"""Safety alerts: a risk signal (a suicide-risk answer, a crisis-now referral, the crisis button in a
session) that must reach a person, and stays open until someone has acted on it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AlertSource(models.TextChoices):
    MEASURE = "measure", _("Questionnaire answer")
    REFERRAL = "referral", _("Referral or screening")
    SESSION = "session", _("During a session")
    CHECK_IN = "check-in", _("Follow-up check-in")
    OTHER = "other", _("Other")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Someone is on it")
    RESOLVED = "resolved", _("Resolved")


class SafetyAlert(models.Model):
    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="safety_alerts")
    patient = models.ForeignKey(
        "intake.Patient", on_delete=models.PROTECT, related_name="safety_alerts", null=True, blank=True
    )
    # Who it is about when there is no patient record yet (e.g. "Referral R-2026-00042").
    about = models.CharField(_("about"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=AlertSource.choices)
    summary = models.TextField(_("what happened"))
    link = models.CharField(_("where to act"), max_length=300, blank=True)
    notified = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="safety_alerts_received", blank=True)
    status = models.CharField(_("status"), max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(_("what was done"), blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["program", "status"])]

    def __str__(self) -> str:
        return f"{self.get_source_display()} alert {self.pk} ({self.status})"

    @property
    def subject_label(self) -> str:
        if self.patient is not None:
            return f"{self.patient.full_name} ({self.patient.record_number})"
        return self.about
