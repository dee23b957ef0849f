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
