from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openiop.measures import fhir, scoring


class Questionnaire(models.Model):
    """An instrument a program can give: a FHIR R4 Questionnaire as imported.

    Built-in instruments (openiop/measures/instruments/*.json) have no program
    and are offered to every program; a program's own imports belong to it."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    program = models.ForeignKey(
        "accounts.Program", on_delete=models.PROTECT, null=True, blank=True, related_name="questionnaires"
    )
    slug = models.SlugField(_("short name"), max_length=60)
    title = models.CharField(_("title"), max_length=300)
    instrument_key = models.CharField(_("recognised instrument"), max_length=20, blank=True)
    resource = models.JSONField(_("FHIR Questionnaire"))
    critical_link_ids = models.JSONField(_("critical items (linkIds)"), default=list, blank=True)
    copyright = models.TextField(_("copyright"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["program", "slug"], name="questionnaire_slug_unique_in_program"),
            models.UniqueConstraint(
                fields=["slug"], condition=models.Q(program__isnull=True), name="builtin_questionnaire_slug_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def parsed(self) -> fhir.ParsedQuestionnaire:
        return fhir.parse_questionnaire(self.resource, critical_link_ids=self.critical_link_ids)

    @property
    def short_title(self) -> str:
        instrument = scoring.INSTRUMENTS.get(self.instrument_key)
        return instrument.title if instrument else self.title


class Occasion(models.TextChoices):
    INTAKE = "intake", _("At intake")
    WEEKLY = "weekly", _("Weekly")
    DISCHARGE = "discharge", _("At discharge")
    FOLLOW_UP = "follow-up", _("After discharge")
    AD_HOC = "ad-hoc", _("Other")


class MeasureSchedule(models.Model):
    """Which questionnaires a track gives, and when."""

    track = models.ForeignKey("scheduling.Track", on_delete=models.PROTECT, related_name="measure_schedules")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="schedules")
    at_intake = models.BooleanField(_("at intake"), default=True)
    weekly = models.BooleanField(_("weekly"), default=True)
    at_discharge = models.BooleanField(_("at discharge"), default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["track", "questionnaire"], name="one_schedule_per_track_questionnaire")
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} in {self.track}"


class MeasureResponse(models.Model):
    """One completed questionnaire (a FHIR QuestionnaireResponse) and its score.

    The score is computed by openiop.measures.scoring from the answers when the
    response is stored; nothing here is typed in by hand."""

    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")

    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="measure_responses")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="responses")
    enrollment = models.ForeignKey(
        "intake.Enrollment", on_delete=models.PROTECT, null=True, blank=True, related_name="measure_responses"
    )
    occasion = models.CharField(max_length=10, choices=Occasion.choices, default=Occasion.AD_HOC)
    authored_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    administered_by_staff = models.BooleanField(default=False)
    resource = models.JSONField(_("FHIR QuestionnaireResponse"))
    total = models.IntegerField(null=True, blank=True)
    band = models.CharField(max_length=40, blank=True)
    subscales = models.JSONField(default=dict, blank=True)
    critical_items = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.COMPLETED)

    class Meta:
        ordering = ["authored_at"]
        indexes = [
            # Each patient's scores per measure in time order, with what the progress list needs (status, total):
            # read from the index alone, without the FHIR JSON in the rows.
            models.Index(
                fields=["patient", "questionnaire", "authored_at", "id", "status", "total"],
                name="measureresponse_scores",
            )
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} for patient {self.patient_id} on {self.authored_at:%Y-%m-%d}"

    @property
    def is_critical(self) -> bool:
        return bool(self.critical_items)

    def score_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.questionnaire.instrument_key or self.questionnaire.slug,
            "total": self.total,
            "band": self.band or None,
            "critical_items": self.critical_items,
            "subscales": self.subscales,
            "warnings": self.warnings,
        }


class DerivedObservation(models.Model):
    """A FHIR Observation derived from a response: the total, or a subscale."""

    response = models.ForeignKey(MeasureResponse, on_delete=models.PROTECT, related_name="observations")
    code_system = models.CharField(max_length=200)
    code = models.CharField(max_length=60)
    value = models.IntegerField()
    resource = models.JSONField()

    def __str__(self) -> str:
        return f"{self.code} = {self.value}"


class MeasureReminder(models.Model):
    """A reminder email queued for one due measure, so it goes once."""

    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="+")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField()
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "questionnaire", "due_date"], name="one_reminder_per_due_measure"
            )
        ]

    def __str__(self) -> str:
        return f"reminder for {self.questionnaire} due {self.due_date}"
