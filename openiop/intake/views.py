from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from openiop.accounts import access
from openiop.accounts.decorators import STAFF, acting_person, role_required
from openiop.accounts.models import Role
from openiop.audit import services as audit
from openiop.audit.models import AuditEntry
from openiop.intake import queries
from openiop.measures import queries as measures_queries
from openiop.portal import queries as portal_queries


@role_required(*STAFF)
@require_GET
def patient_chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="chart")
    today = timezone.localdate()
    enrollment = queries.current_enrollment(patient)
    context = {
        "patient": patient,
        "age": patient.age_on(today),
        "enrollment": enrollment,
        "week": enrollment.week_of_care(today) if enrollment else None,
        "enrollments": patient.enrollments.select_related("track"),
        "care_team": queries.care_team(patient),
        "groups": queries.open_group_memberships(patient),
        "family": queries.active_family_access(patient),
        "break_glass": access.active_break_glass(request.user, patient)  # type: ignore[arg-type]
        if getattr(request.user, "role", None) == Role.CLINICIAN
        else None,
        "recent_access": AuditEntry.objects.filter(patient=patient).order_by("-seq")[:10]
        if getattr(request.user, "role", None) == Role.DIRECTOR
        else None,
    }
    return render(request, "intake/patient_chart.html", context)


@role_required(Role.PATIENT)
@require_GET
def patient_today(request: HttpRequest) -> HttpResponse:
    """The patient's home page: their program, their team, who sees what."""
    own = access.patients_in_care_of(request.user).first()
    if own is None:
        return render(request, "intake/patient_today.html", {"patient": None})
    patient = access.patient_for_user(request, own.pk, purpose="today")
    today = timezone.localdate()
    enrollment = queries.current_enrollment(patient)
    context = {
        "patient": patient,
        "enrollment": enrollment,
        "week": enrollment.week_of_care(today) if enrollment else None,
        "care_team": queries.care_team(patient),
        "groups": queries.open_group_memberships(patient),
        "family": queries.active_family_access(patient),
        "due_measures": measures_queries.due_measures(patient, enrollment, today),
    }
    return render(request, "intake/patient_today.html", context)


@role_required(Role.FAMILY)
@require_GET
def family_home(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    grants = list(access.families_of(person))
    audit.record_reads_of_list(person, [grant.patient for grant in grants], purpose="family-home")
    return render(request, "intake/family_home.html", {"grants": grants})


@role_required(Role.FAMILY)
@require_GET
def family_patient(request: HttpRequest, patient_id: int) -> HttpResponse:
    view = access.family_view_for_user(request, patient_id)
    enrollment = queries.current_enrollment(view.patient) if view.grant.may_see_progress_summary else None
    today = timezone.localdate()
    context = {
        "view": view,
        "patient": view.patient,
        "enrollment": enrollment,
        "week": enrollment.week_of_care(today) if enrollment else None,
        "family_sessions": portal_queries.session_cards(portal_queries.family_sessions(view.patient, timezone.now()))
        if view.grant.may_see_family_sessions
        else [],
    }
    return render(request, "intake/family_patient.html", context)
