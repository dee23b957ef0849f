"""Read helpers for patient pages: what a chart or a caseload row shows.

Queries only; access is decided in openiop.accounts.access before these run."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, FamilyAccess, Patient
from openiop.scheduling.models import GroupMembership


def current_enrollment(patient: Patient) -> Enrollment | None:
    """The enrollment that matters now: active, else the next planned one, else the latest."""
    enrollments = list(patient.enrollments.select_related("track").all())
    for status in (
        EnrollmentStatus.ACTIVE,
        EnrollmentStatus.ONHOLD,
        EnrollmentStatus.PLANNED,
        EnrollmentStatus.WAITLIST,
    ):
        for enrollment in enrollments:
            if enrollment.status == status:
                return enrollment
    return enrollments[0] if enrollments else None


def care_team(patient: Patient) -> QuerySet[CareTeamMember]:
    return patient.care_team_members.select_related("clinician").order_by("-is_primary", "clinician__last_name")


def open_group_memberships(patient: Patient) -> QuerySet[GroupMembership]:
    return (
        patient.group_memberships.filter(end_date__isnull=True)
        .select_related("group", "group__track")
        .prefetch_related("group__facilitators")
    )


def active_family_access(patient: Patient) -> QuerySet[FamilyAccess]:
    return patient.family_access.filter(status=FamilyAccess.Status.ACTIVE).select_related("family_member")


def with_list_details(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """A patient list with enrollment and primary clinician in a fixed number of queries."""
    return patients.prefetch_related(
        Prefetch("enrollments", queryset=Enrollment.objects.select_related("track")),
        Prefetch(
            "care_team_members",
            queryset=CareTeamMember.objects.filter(is_primary=True).select_related("clinician"),
            to_attr="primary_members",
        ),
    )
