from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from openiop.scheduling.problem import class_label


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
        indexes = [
            models.Index(fields=["program", "starts_at"]),
            # Overdue notes on the dashboard: sessions of the program that ended before a time.
            models.Index(fields=["program", "ends_at", "status"], name="session_program_ended"),
        ]
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


# --- Weekly schedule builder (issue 9) -------------------------------------------------------------------------

PART_CHOICES = [(0, _("Morning (9:00-12:00)")), (1, _("Afternoon (13:00-16:00)")), (2, _("Evening (18:00-21:00)"))]


def default_track_parts() -> list[int]:
    return [2]


class TrackPattern(models.Model):
    """When a track's groups may meet: parts of the day, meeting length and days a week."""

    track = models.OneToOneField(Track, on_delete=models.CASCADE, related_name="pattern")
    parts = models.JSONField(_("parts of the day"), default=default_track_parts)
    hours_per_day = models.PositiveSmallIntegerField(_("hours per meeting"), default=3)
    days_per_week = models.PositiveSmallIntegerField(_("days a week"), default=3)

    def __str__(self) -> str:
        return f"{self.track}: {self.parts}"


class GroupSlot(models.Model):
    """A standing group's weekly meetings: one part of the day on a set of weekdays."""

    group = models.OneToOneField(TherapyGroup, on_delete=models.CASCADE, related_name="slot")
    part = models.PositiveSmallIntegerField(_("part of the day"), choices=PART_CHOICES)
    days = models.CharField(_("weekdays (0=Mon)"), max_length=5)
    capacity = models.PositiveSmallIntegerField(_("capacity"), null=True, blank=True)
    minimum_size = models.PositiveSmallIntegerField(_("minimum size"), null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.group}: {self.days}/{self.part}"

    @property
    def day_list(self) -> tuple[int, ...]:
        return tuple(int(c) for c in self.days)


class ClinicianAvailability(models.Model):
    """A clinician's week for the scheduler: free blocks, hours, caseload, adolescents."""

    clinician = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability")
    blocks = models.JSONField(_("available blocks [day, part]"), default=list)
    max_hours = models.PositiveSmallIntegerField(_("maximum hours a week"), default=32)
    max_caseload = models.PositiveSmallIntegerField(_("maximum caseload"), default=16)
    sees_adolescents = models.BooleanField(_("sees adolescents"), default=False)

    def __str__(self) -> str:
        return f"availability of {self.clinician_id}"


class PatientAvailability(models.Model):
    """A patient's week for the scheduler: free blocks per weekday, family sessions, preferences."""

    patient = models.OneToOneField("intake.Patient", on_delete=models.PROTECT, related_name="availability")
    blocks = models.JSONField(_("available blocks [day, part]"), default=list)
    required_hours = models.PositiveSmallIntegerField(_("required hours a week"), null=True, blank=True)
    family_sessions = models.BooleanField(_("plan includes family sessions"), default=False)
    preferred_parts = models.JSONField(_("preferred parts of the day"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"availability of {self.patient_id}"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")


class SchedulePlan(models.Model):
    """One solver run for one week. A draft until the coordinator publishes it."""

    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="schedule_plans")
    week_start = models.DateField(_("week starting (Monday)"))
    status = models.CharField(_("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    solver = models.CharField(max_length=20, default="cp-sat")
    solver_status = models.CharField(max_length=20, blank=True)
    seconds = models.FloatField(default=0)
    patients = models.PositiveIntegerField(default=0)
    at_dose = models.PositiveIntegerField(default=0)
    coverable = models.PositiveIntegerField(default=0)
    explanations = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sessions = models.ManyToManyField(Session, related_name="plans", blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week_start", "-created_at"]

    def __str__(self) -> str:
        return f"plan {self.week_start} ({self.status})"


class PlanGroup(models.Model):
    plan = models.ForeignKey(SchedulePlan, on_delete=models.CASCADE, related_name="groups")
    therapy_group = models.ForeignKey(TherapyGroup, on_delete=models.PROTECT, null=True, blank=True)
    track = models.ForeignKey(Track, on_delete=models.PROTECT)
    name = models.CharField(max_length=200)
    part = models.PositiveSmallIntegerField(choices=PART_CHOICES)
    days = models.CharField(max_length=5)
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["track_id", "part", "days", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def when(self) -> str:
        """e.g. "Mon/Wed/Fri evenings"."""
        return class_label((str(self.track_id), self.part, tuple(int(d) for d in self.days)))


class PlanAssignment(models.Model):
    """Where one patient is in a plan: a group (or none) and their individual/family hours."""

    plan = models.ForeignKey(SchedulePlan, on_delete=models.CASCADE, related_name="assignments")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="plan_assignments")
    group = models.ForeignKey(PlanGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="members")
    at_dose = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "patient"], name="one_assignment_per_plan")]

    def __str__(self) -> str:
        return f"{self.patient_id} in {self.plan_id}"


class PlanAppointment(models.Model):
    plan = models.ForeignKey(SchedulePlan, on_delete=models.CASCADE, related_name="appointments")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    day = models.PositiveSmallIntegerField()
    hour = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["day", "hour"]

    def __str__(self) -> str:
        return f"{self.kind} {self.patient_id} {self.day}/{self.hour}"


class CalendarFeed(models.Model):
    """A private iCal feed. Only a SHA-256 hash of the token is kept; revoking sets revoked_at."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"feed of {self.user_id}"
