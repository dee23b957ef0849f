"""Home pages for staff roles: the clinician's caseload, the intake
coordinator's incoming list, the director's program overview."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from openiop.accounts import access
from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import BreakGlassGrant, Role, User
from openiop.audit import services as audit
from openiop.intake import queries
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus
from openiop.scheduling.models import TherapyGroup, Track
from openiop.treatment.queries import clinician_todo


class PatientSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or record number"), required=False, max_length=100)


@role_required(Role.CLINICIAN)
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    clinician = acting_person(request)
    patients = list(queries.with_list_details(access.patients_in_care_of(clinician)))
    grants = list(
        BreakGlassGrant.objects.filter(clinician=clinician, expires_at__gt=timezone.now()).select_related("patient")
    )
    audit.record_reads_of_list(clinician, patients + [grant.patient for grant in grants], purpose="caseload")
    groups = (
        TherapyGroup.objects.filter(facilitators=clinician)
        .select_related("track")
        .annotate(members=Count("memberships", filter=Q(memberships__end_date__isnull=True)))
    )
    return render(
        request,
        "core/caseload.html",
        {
            "patients": patients,
            "groups": groups,
            "grants": grants,
            "today": timezone.localdate(),
            "todo": clinician_todo(clinician),
        },
    )


@role_required(Role.INTAKE)
@require_GET
def intake_home(request: HttpRequest) -> HttpResponse:
    coordinator = acting_person(request)
    patients = list(queries.with_list_details(access.patients_in_care_of(coordinator)))
    audit.record_reads_of_list(coordinator, patients, purpose="intake-list")
    return render(request, "core/intake_home.html", {"patients": patients})


CLINICIANS_PER_PAGE = 50


@role_required(Role.DIRECTOR)
@require_GET
def program_overview(request: HttpRequest) -> HttpResponse:
    """Census per track, clinicians' caseloads (a page at a time) and break-glass grants to review. Counts
    come from grouped queries on the enrollment index, so the page costs about the same at any size."""
    director = acting_person(request)
    program_id = director.program_pk
    episodes = Enrollment.objects.filter(track__program_id=program_id)
    counts = {  # one row per track and status: a handful, at any size
        (track_id, status): count
        for track_id, status, count in episodes.filter(status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.PLANNED])
        .values_list("track_id", "status")
        .annotate(count=Count("*"))
        .order_by()
    }
    tracks = [
        (track, counts.get((track.pk, EnrollmentStatus.ACTIVE), 0), counts.get((track.pk, EnrollmentStatus.PLANNED), 0))
        for track in Track.objects.filter(program_id=program_id).order_by("name")
    ]
    clinicians = Paginator(
        User.objects.filter(program_id=program_id, role=Role.CLINICIAN).order_by("last_name", "first_name", "pk"),
        CLINICIANS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    caseloads = dict(
        CareTeamMember.objects.filter(clinician__in=[clinician.pk for clinician in clinicians])
        .values_list("clinician_id")
        .annotate(count=Count("*"))
        .order_by()
    )
    grants = BreakGlassGrant.objects.filter(patient__program_id=program_id, reviewed_at__isnull=True)
    grants = grants.select_related("clinician", "patient")
    audit.record_reads_of_list(director, [grant.patient for grant in grants], purpose="break-glass-review")
    context = {
        "tracks": tracks,
        "active_total": episodes.filter(status=EnrollmentStatus.ACTIVE).values("patient_id").distinct().count(),
        "page": clinicians,
        "clinicians": [(clinician, caseloads.get(clinician.pk, 0)) for clinician in clinicians],
        "grants": grants,
    }
    return render(request, "core/program_overview.html", context)


@role_required(Role.DIRECTOR)
@require_GET
def program_patients(request: HttpRequest) -> HttpResponse:
    search = PatientSearchForm(request.GET)
    if not search.is_valid():
        return render(request, "core/program_patients.html", {"page": None, "query": "", "form": search}, status=400)
    query = search.cleaned_data["q"]
    patients = access.patients_in_care_of(request.user)
    if query:
        patients = patients.filter(
            Q(record_number__iexact=query) | Q(given_name__icontains=query) | Q(family_name__icontains=query)
        )
    page = Paginator(queries.with_list_details(patients).order_by("family_name", "given_name", "pk"), 50).get_page(
        request.GET.get("page")
    )
    audit.record_reads_of_list(acting_person(request), list(page.object_list), purpose="program-patients")
    return render(request, "core/program_patients.html", {"page": page, "query": query, "form": search})
