from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Population(models.TextChoices):
    ADULT = "adult", _("Adults")
    ADOLESCENT = "adolescent", _("Adolescents (13-17)")


class Focus(models.TextChoices):
    SUBSTANCE_USE = "substance-use", _("Substance use")
    MENTAL_HEALTH = "mental-health", _("Mental health")
    CO_OCCURRING = "co-occurring", _("Co-occurring")


class Track(models.Model):
    """A stream of the program with its own population, focus and hours,
    e.g. "Adult substance use - evenings"."""

    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="tracks")
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"))
    population = models.CharField(_("population"), max_length=20, choices=Population.choices)
    focus = models.CharField(_("focus"), max_length=20, choices=Focus.choices)
    schedule_summary = models.CharField(_("when it meets"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["program", "slug"], name="track_slug_unique_in_program")]

    def __str__(self) -> str:
        return self.name


class TherapyGroup(models.Model):
    """A standing therapy group within a track, led by one or more facilitators."""

    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(_("name"), max_length=200)
    facilitators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="facilitated_groups", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    group = models.ForeignKey(TherapyGroup, on_delete=models.PROTECT, related_name="memberships")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="group_memberships")
    start_date = models.DateField(_("joined"))
    end_date = models.DateField(_("left"), null=True, blank=True)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "patient"],
                condition=models.Q(end_date__isnull=True),
                name="one_open_membership_per_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} in {self.group}"


class SessionKind(models.TextChoices):
    GROUP = "group", _("Group therapy")
    INDIVIDUAL = "individual", _("Individual therapy")
    FAMILY = "family", _("Family session")


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")


class Session(models.Model):
    """One scheduled occurrence of care: a group meeting, an individual or a family session.

    Maps to a FHIR Appointment (and, once held, an Encounter per attendee). Sessions are created by staff or
    by publishing a week's schedule; rooms, attendance and notes hang off them."""

    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="sessions")
    kind = models.CharField(_("kind"), max_length=20, choices=SessionKind.choices)
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="sessions", null=True, blank=True)
    therapy_group = models.ForeignKey(
        TherapyGroup, on_delete=models.PROTECT, related_name="sessions", null=True, blank=True
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    module = models.CharField(_("curriculum module"), max_length=100, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    clinicians = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="sessions_led", blank=True)
    family_guests = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="family_sessions", blank=True, verbose_name=_("family members invited")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["program", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class SessionAttendee(models.Model):
    """A patient expected at a session. Attendance (minutes, status) is recorded by the rooms app."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="attendees")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="session_attendances")

    class Meta:
        ordering = ["session_id", "patient_id"]
        constraints = [models.UniqueConstraint(fields=["session", "patient"], name="one_attendee_row_per_session")]

    def __str__(self) -> str:
        return f"{self.patient_id} at {self.session_id}"
