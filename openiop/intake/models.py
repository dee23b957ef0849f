from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Patient(models.Model):
    """A person in treatment (or on the way to it). Their chart.

    A patient need not have a sign-in (`user`): referrals arrive before
    accounts do. Every read of a Patient by a person goes through
    openiop.accounts.access.patient_for_user, which writes the audit log."""

    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="patients")
    record_number = models.CharField(_("record number"), max_length=20)
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="patient_record"
    )
    care_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CareTeamMember", related_name="caseload", blank=True
    )
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=200, blank=True)
    emergency_contact_phone = models.CharField(_("emergency contact phone"), max_length=30, blank=True)
    emergency_contact_relationship = models.CharField(_("emergency contact relationship"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "record_number"], name="record_number_unique_in_program")
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - int(before_birthday)


class CareTeamMember(models.Model):
    """A clinician on a patient's care team: the patient is on their caseload."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team_members")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_team_roles")
    is_primary = models.BooleanField(_("primary clinician"), default=False)
    since = models.DateField(_("since"), default=date.today)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "clinician"], name="care_team_member_once"),
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(is_primary=True), name="one_primary_clinician"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinician} for {self.patient}"


class EnrollmentStatus(models.TextChoices):
    # FHIR EpisodeOfCare.status values.
    PLANNED = "planned", _("Planned")
    WAITLIST = "waitlist", _("Waiting list")
    ACTIVE = "active", _("Active")
    ONHOLD = "onhold", _("On hold")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")


class Enrollment(models.Model):
    """One episode of IOP care for a patient in a track (FHIR EpisodeOfCare)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="enrollments")
    track = models.ForeignKey("scheduling.Track", on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(_("status"), max_length=20, choices=EnrollmentStatus.choices)
    start_date = models.DateField(_("start date"))
    planned_end_date = models.DateField(_("planned end date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    # One of openiop.referrals.level_of_care.LEVELS (the confirmed recommendation).
    level_of_care = models.CharField(_("level of care"), max_length=30, default="iop")

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end_date__gte=models.F("start_date")),
                name="enrollment_planned_end_after_start",
            )
        ]
        # Census, admissions and discharges on the dashboard, and the overview's counts, are read from this
        # index alone (openiop/reports/metrics.py).
        indexes = [
            models.Index(
                fields=["track", "status", "start_date", "end_date", "patient"], name="enrollment_track_status_days"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} in {self.track} ({self.status})"

    def week_of_care(self, day: date) -> int | None:
        if self.status != EnrollmentStatus.ACTIVE or day < self.start_date:
            return None
        return (day - self.start_date).days // 7 + 1


class FamilyAccess(models.Model):
    """What a patient has agreed a family member / support person may see.

    Made from a signed family-access consent (`consent`); revoking that
    consent revokes the grant in the same transaction, and access.py also
    checks the consent itself, so the next request is refused. Revoked
    grants stay, with their date."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="family_access")
    family_member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="family_of")
    relationship = models.CharField(_("relationship"), max_length=100)
    may_see_family_sessions = models.BooleanField(_("may see the schedule of family sessions"), default=True)
    may_see_progress_summary = models.BooleanField(_("may see a summary of progress"), default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    consent = models.ForeignKey(
        "referrals.SignedConsent", on_delete=models.PROTECT, null=True, blank=True, related_name="family_grants"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "family_member"],
                condition=models.Q(status="active"),
                name="one_active_family_access",
            )
        ]

    def __str__(self) -> str:
        return f"{self.family_member} for {self.patient} ({self.status})"
