"""The public program page, portal preferences, care-team messages and sent reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Modality(models.TextChoices):
    VIRTUAL = "virtual", _("Online (video)")
    IN_PERSON = "in-person", _("In person")
    HYBRID = "hybrid", _("Online or in person")


class TimeOfDay(models.TextChoices):
    MORNING = "morning", _("Mornings")
    AFTERNOON = "afternoon", _("Afternoons (after school)")
    EVENING = "evening", _("Evenings")


class ProgramPage(models.Model):
    """What a program tells people looking for care. The director edits it; our own explanation of IOP,
    the crisis lines and the track finder come from the templates (translated)."""

    program = models.OneToOneField("accounts.Program", on_delete=models.PROTECT, related_name="public_page")
    published = models.BooleanField(_("show this page to the public"), default=False)
    about = models.TextField(_("about this program (in your words)"), blank=True)
    who_it_helps = models.TextField(_("who the program helps"), blank=True)
    days = models.CharField(_("days"), max_length=200, blank=True, help_text=_("e.g. Monday, Wednesday, Thursday"))
    typical_length = models.CharField(_("typical length"), max_length=100, blank=True, default="8-12")
    rolling_admission = models.BooleanField(_("rolling admission (people can start any week)"), default=True)
    next_start_dates = models.TextField(
        _("next start dates"), blank=True, help_text=_("One date a line, as YYYY-MM-DD, when admission is not rolling")
    )
    accepts_masshealth = models.BooleanField(_("accepts MassHealth"), default=True)
    insurance = models.TextField(_("other insurance accepted"), blank=True, help_text=_("One plan a line"))
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    massachusetts_label = models.CharField(
        _("label used in Massachusetts"),
        max_length=200,
        blank=True,
        help_text=_("e.g. substance-use day treatment (SOAP), licensed by DPH/BSAS under 105 CMR 164"),
    )
    first_week = models.TextField(_("what the first week looks like"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    city = models.CharField(_("city or town"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Public page of {self.program}"

    def insurance_list(self) -> list[str]:
        return [line.strip() for line in self.insurance.splitlines() if line.strip()]

    def start_date_list(self) -> list[str]:
        return [line.strip() for line in self.next_start_dates.splitlines() if line.strip()]


class FaqEntry(models.Model):
    page = models.ForeignKey(ProgramPage, on_delete=models.CASCADE, related_name="faq")
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.question


class TrackListing(models.Model):
    """How a track is described to the public and matched by the track finder."""

    track = models.OneToOneField("scheduling.Track", on_delete=models.PROTECT, related_name="listing")
    modality = models.CharField(_("where"), max_length=20, choices=Modality.choices, default=Modality.VIRTUAL)
    time_of_day = models.CharField(_("time of day"), max_length=20, choices=TimeOfDay.choices)
    hours_per_week = models.PositiveSmallIntegerField(_("hours a week"))
    days_per_week = models.PositiveSmallIntegerField(_("days a week"), default=3)
    accepting = models.BooleanField(_("taking new people"), default=True)

    def __str__(self) -> str:
        return f"Listing of {self.track}"


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")


class Preferences(models.Model):
    """A person's portal settings: language and how they want to be reminded."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_preferences")
    language = models.CharField(_("language"), max_length=10, blank=True)
    remind_by_email = models.BooleanField(_("email me before sessions"), default=True)
    remind_by_sms = models.BooleanField(_("text me before sessions"), default=False)
    sms_number = models.CharField(_("mobile number for texts"), max_length=20, blank=True)
    nudge_about_messages = models.BooleanField(_("email me when my care team writes"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Preferences of {self.user_id}"


class CareMessage(models.Model):
    """A secure message between a patient and their care team, kept in OpenIOP (never sent by email)."""

    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="care_messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_patient = models.BooleanField()
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"Message {self.pk} about patient {self.patient_id}"


class ReminderSent(models.Model):
    """One reminder that went out; the unique constraint makes `send_reminders` idempotent."""

    session = models.ForeignKey("scheduling.Session", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)  # the lead time, e.g. "24h" or "1h" (OPENIOP_REMINDER_HOURS)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "user", "kind", "channel"], name="reminder_sent_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder by {self.channel} for session {self.session_id}"
