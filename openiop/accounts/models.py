from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Program(models.Model):
    """One IOP program run by a clinic. Staff, patients and the family members
    invited through it belong to one; the director sees everything in theirs."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("program")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    DIRECTOR = "director", _("Program director")
    INTAKE = "intake", _("Intake coordinator")
    CLINICIAN = "clinician", _("Clinician")
    PATIENT = "patient", _("Patient")
    FAMILY = "family", _("Family member / support person")


STAFF_ROLES = frozenset({Role.DIRECTOR, Role.INTAKE, Role.CLINICIAN})


class User(AbstractUser):
    """A person who signs in. `role` decides their home page and, through
    openiop.accounts.access, what they may see."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    program = models.ForeignKey(
        Program, verbose_name=_("program"), on_delete=models.PROTECT, null=True, blank=True, related_name="people"
    )
    # Clinicians who see adolescents, trainees needing co-signature and so on
    # arrive with later issues; keep this model about identity and role.

    class Meta:
        verbose_name = _("person")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]),
                name="user_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()})"

    @property
    def program_pk(self) -> int:
        """The person's program id; someone outside any program sees no program pages."""
        if self.program_id is None:
            raise Http404
        return self.program_id

    @property
    def is_program_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Invitation(models.Model):
    """A one-time link that lets a new person set their password.

    Only a hash of the token is stored: a copy of the database does not let
    anyone sign in as an invited person."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.user.username}"

    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class BreakGlassGrant(models.Model):
    """Emergency access by a clinician to a record outside their caseload.

    Created only with a typed reason; lasts settings.BREAK_GLASS_MINUTES; every
    grant waits on the director's overview until they have reviewed it."""

    clinician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="break_glass_grants")
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Break-glass by {self.clinician_id} on patient {self.patient_id}"
