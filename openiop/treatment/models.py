"""The clinical spine of an episode of care: the treatment plan (versioned, signed by patient and clinician),
the group curriculum, session notes (group, individual DAP, family) with addenda and co-signature, progress
reviews with their decisions, the discharge summary and the follow-up check-ins after it.

Clinical records are never deleted: a plan is superseded by its next version, a signed note is locked and
only amended."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    # FHIR CarePlan.status values.
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Superseded")
    COMPLETED = "completed", _("Completed")


class TreatmentPlan(models.Model):
    """One version of the treatment plan for an enrollment (FHIR CarePlan).

    A draft becomes active once both the clinician and the patient have signed it; the active version
    before it is then marked superseded and stays readable."""

    enrollment = models.ForeignKey("intake.Enrollment", on_delete=models.PROTECT, related_name="treatment_plans")
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    problems = models.TextField(_("problems"), help_text=_("One problem per line."))
    patient_words = models.TextField(_("in the patient's own words"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    clinician_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    clinician_signed_at = models.DateTimeField(null=True, blank=True)
    patient_signed_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    next_review_due = models.DateField(_("next review due"), null=True, blank=True)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["enrollment_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "version"], name="plan_version_once"),
            models.UniqueConstraint(
                fields=["enrollment"], condition=models.Q(status="active"), name="one_active_plan_per_enrollment"
            ),
            models.UniqueConstraint(
                fields=["enrollment"], condition=models.Q(status="draft"), name="one_draft_plan_per_enrollment"
            ),
        ]

    def __str__(self) -> str:
        return f"Plan v{self.version} for enrollment {self.enrollment_id} ({self.status})"

    @property
    def problem_list(self) -> list[str]:
        return [line.strip() for line in self.problems.splitlines() if line.strip()]


class GoalStatus(models.TextChoices):
    # FHIR Goal.achievementStatus codes (a subset).
    IN_PROGRESS = "in-progress", _("In progress")
    IMPROVING = "improving", _("Improving")
    ACHIEVED = "achieved", _("Achieved")
    NOT_ACHIEVED = "not-achieved", _("Not achieved")


class Goal(models.Model):
    """A goal in one plan version (FHIR Goal): what, by when, how progress is measured, and its objectives."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="goals")
    problem = models.CharField(_("problem it addresses"), max_length=300, blank=True)
    description = models.CharField(_("goal"), max_length=300)
    target_date = models.DateField(_("target date"))
    measured_by = models.CharField(_("how progress is measured"), max_length=300)
    objectives = models.TextField(_("objectives"), blank=True, help_text=_("One objective per line."))
    status = models.CharField(_("progress"), max_length=20, choices=GoalStatus.choices, default=GoalStatus.IN_PROGRESS)

    class Meta:
        ordering = ["plan_id", "pk"]

    def __str__(self) -> str:
        return self.description

    @property
    def objective_list(self) -> list[str]:
        return [line.strip() for line in self.objectives.splitlines() if line.strip()]


class InterventionKind(models.TextChoices):
    GROUP = "group", _("Group therapy")
    INDIVIDUAL = "individual", _("Individual therapy")
    FAMILY = "family", _("Family session")


class Intervention(models.Model):
    """Which sessions serve a goal (FHIR CarePlan.activity): a kind of session, optionally a curriculum module."""

    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="interventions")
    kind = models.CharField(_("kind of session"), max_length=20, choices=InterventionKind.choices)
    module = models.CharField(_("curriculum module"), max_length=100, blank=True)
    description = models.CharField(_("what happens"), max_length=300, blank=True)

    class Meta:
        ordering = ["goal_id", "pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.description or self.module}"


class CurriculumModule(models.Model):
    """A group curriculum module a program added to the built-in library (openiop/treatment/curriculum.py)."""

    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="curriculum_modules")
    slug = models.SlugField(_("short name"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    objectives = models.TextField(_("objectives"), help_text=_("One objective per line."))
    outline = models.TextField(_("session outline"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["program", "slug"], name="module_slug_unique_in_program")]

    def __str__(self) -> str:
        return self.title


class NoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_COSIGN = "awaiting-cosign", _("Signed, awaiting co-signature")
    SIGNED = "signed", _("Signed")


class Note(models.Model):
    """The note for one session. A group note has a shared part (topic, observations) and one NotePart per
    attendee; an individual or family note uses the DAP fields (data, assessment, plan) and one NotePart
    for the patient's risk. Signed notes are locked: changes after signing are Addenda."""

    session = models.OneToOneField("scheduling.Session", on_delete=models.PROTECT, related_name="note")
    kind = models.CharField(_("kind"), max_length=20, choices=InterventionKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notes_written")
    status = models.CharField(_("status"), max_length=20, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    counseling_note = models.BooleanField(
        _("substance-use counseling note"),
        default=False,
        help_text=_("Shown or exported only where the patient's separate counseling-notes consent allows."),
    )
    module = models.CharField(_("curriculum module"), max_length=100, blank=True)
    topic = models.CharField(_("topic"), max_length=300, blank=True)
    observations = models.TextField(_("facilitator's observations"), blank=True)
    data = models.TextField(_("data"), blank=True)
    assessment = models.TextField(_("assessment"), blank=True)
    plan = models.TextField(_("plan"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} note for session {self.session_id} ({self.status})"

    @property
    def is_locked(self) -> bool:
        return self.status != NoteStatus.DRAFT


class NotePart(models.Model):
    """One attendee's part of a note: participation, progress toward their goals, risk."""

    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="parts")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="note_parts")
    participation = models.TextField(_("participation"), blank=True)
    progress = models.TextField(_("progress toward goals"), blank=True)
    risk = models.TextField(_("risk"), blank=True)

    class Meta:
        ordering = ["note_id", "pk"]
        constraints = [models.UniqueConstraint(fields=["note", "patient"], name="one_note_part_per_patient")]

    def __str__(self) -> str:
        return f"part of note {self.note_id} for {self.patient_id}"


class Addendum(models.Model):
    """A dated addition to a signed note, by a named author. Addenda are never edited."""

    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("addendum"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"addendum to note {self.note_id}"


class Supervision(models.Model):
    """A trainee clinician whose signed notes need a supervisor's co-signature."""

    trainee = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervision")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervisees")

    def __str__(self) -> str:
        return f"{self.trainee_id} supervised by {self.supervisor_id}"


class CounselingNotesConsent(models.Model):
    """INTERIM: the patient's separate consent to share substance-use counseling notes (42 CFR Part 2).
    The intake issue builds the full consent record; after merge, access.may_see_counseling_notes reads that
    instead and this model goes."""

    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="counseling_consents")
    granted_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(revoked_at__isnull=True), name="one_open_counseling_consent"
            )
        ]

    def __str__(self) -> str:
        return f"counseling-notes consent of {self.patient_id}"


class Decision(models.TextChoices):
    CONTINUE = "continue", _("Continue as planned")
    EXTEND = "extend", _("Extend")
    STEP_DOWN = "step-down", _("Step down to a lower level of care")
    STEP_UP = "step-up", _("Step up to a higher level of care")
    DISCHARGE = "discharge", _("Discharge")


class ProgressReview(models.Model):
    """A progress review at a review week and the decision taken; the planned end date before and after."""

    enrollment = models.ForeignKey("intake.Enrollment", on_delete=models.PROTECT, related_name="progress_reviews")
    week = models.PositiveIntegerField(_("week of care"))
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    reason = models.TextField(_("reason"), blank=True)
    previous_planned_end = models.DateField()
    new_planned_end = models.DateField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["enrollment_id", "decided_at"]

    def __str__(self) -> str:
        return f"week {self.week} review of enrollment {self.enrollment_id}: {self.decision}"


class DischargeReason(models.TextChoices):
    COMPLETED = "completed", _("Completed the program")
    STEP_DOWN = "step-down", _("Stepped down to a lower level of care")
    STEP_UP = "step-up", _("Stepped up to a higher level of care")
    LEFT = "left", _("Left before completing")
    OTHER = "other", _("Other")


class DischargeSummary(models.Model):
    """The end of an episode: what was received and achieved, and the aftercare plan. Shared with the patient
    and printable as PDF. Written once (the discharge is the signature); later changes are not supported."""

    enrollment = models.OneToOneField("intake.Enrollment", on_delete=models.PROTECT, related_name="discharge")
    reason = models.CharField(_("reason"), max_length=20, choices=DischargeReason.choices)
    discharge_date = models.DateField(_("discharge date"))
    services_received = models.TextField(_("services received"))
    hours_attended = models.DecimalField(_("hours attended"), max_digits=6, decimal_places=1)
    measure_change = models.TextField(_("change in measures"), blank=True)
    outpatient_therapist = models.CharField(_("outpatient therapist"), max_length=300)
    support_groups = models.TextField(_("support groups"), blank=True)
    crisis_plan = models.TextField(_("crisis plan"))
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-discharge_date"]

    def __str__(self) -> str:
        return f"discharge of enrollment {self.enrollment_id}"


class CheckIn(models.Model):
    """A follow-up check-in after discharge (7 and 30 days). "Do you need help?" answered yes raises a safety
    alert and (once the intake issue's Referral model is merged) opens a new referral."""

    discharge = models.ForeignKey(DischargeSummary, on_delete=models.PROTECT, related_name="check_ins")
    days_after = models.PositiveIntegerField()
    due_date = models.DateField()
    answered_at = models.DateTimeField(null=True, blank=True)
    how_are_you = models.TextField(_("how are you doing?"), blank=True)
    needs_help = models.BooleanField(_("do you need help?"), null=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [models.UniqueConstraint(fields=["discharge", "days_after"], name="one_check_in_per_day")]

    def __str__(self) -> str:
        return f"check-in {self.days_after} days after discharge {self.discharge_id}"
