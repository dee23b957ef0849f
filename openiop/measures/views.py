from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from openiop.accounts import access
from openiop.accounts.decorators import STAFF, acting_person, role_required
from openiop.accounts.models import Role
from openiop.audit import services as audit
from openiop.core.errors import ServiceError
from openiop.intake import queries as intake_queries
from openiop.intake.models import Patient
from openiop.measures import chart, queries, services
from openiop.measures.forms import ImportForm, QuestionnaireForm, tree
from openiop.measures.models import MeasureResponse, MeasureSchedule, Occasion, Questionnaire
from openiop.scheduling.models import Track

PROGRESS_PAGE_SIZE = 50


def _own_patient(request: HttpRequest, purpose: str) -> Patient:
    own = access.patients_in_care_of(request.user).first()
    if own is None:
        raise Http404
    return access.patient_for_user(request, own.pk, purpose=purpose)


def _questionnaire(patient: Patient, slug: str) -> Questionnaire:
    questionnaire = queries.questionnaire_for_program(patient.program, slug)
    if questionnaire is None:
        raise Http404
    return questionnaire


def _occasion_for(patient: Patient, questionnaire: Questionnaire) -> tuple[Any, str]:
    enrollment = intake_queries.current_enrollment(patient)
    for due in queries.due_measures(patient, enrollment, timezone.localdate()):
        if due.questionnaire.pk == questionnaire.pk:
            return enrollment, due.occasion
    return enrollment, Occasion.AD_HOC


def _fill(
    request: HttpRequest, patient: Patient, questionnaire: Questionnaire, *, by_staff: bool
) -> tuple[MeasureResponse | None, HttpResponse | None]:
    parsed = questionnaire.parsed()
    form = QuestionnaireForm(parsed, request.POST or None)
    if request.method == "POST" and form.is_valid():
        enrollment, occasion = _occasion_for(patient, questionnaire)
        try:
            response = services.submit_response(
                questionnaire=questionnaire,
                patient=patient,
                actor=acting_person(request),
                answers=form.answers,
                enrollment=enrollment,
                occasion=occasion,
                administered_by_staff=by_staff,
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            return response, None
    status = 400 if request.method == "POST" else 200
    language = str(questionnaire.resource.get("language") or "en").lower()
    context = {
        "patient": patient,
        "questionnaire": questionnaire,
        "parsed": parsed,
        "form": form,
        "nodes": tree(form),
        "by_staff": by_staff,
        "questionnaire_lang": language,
        # validated translations are separate instruments; this one is only in its own language
        "languages": [language, language.split("-")[0]],
    }
    return None, render(request, "measures/fill.html", context, status=status)


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def fill(request: HttpRequest, slug: str) -> HttpResponse:
    patient = _own_patient(request, "measure")
    response, page = _fill(request, patient, _questionnaire(patient, slug), by_staff=False)
    if page is not None:
        return page
    assert response is not None
    return redirect("measures:done", response_id=response.pk)


@role_required(Role.PATIENT)
@require_GET
def my_progress(request: HttpRequest) -> HttpResponse:
    """The patient's own check-in scores over time, in plain words (no item-level detail)."""
    patient = _own_patient(request, "my-progress")
    items = []
    for trajectory in queries.trajectories(patient):
        scored = [p for p in trajectory.points if p.total is not None]
        start = timezone.localdate(scored[0].authored_at) if scored else None
        weeks = [((timezone.localdate(p.authored_at) - start).days // 7 + 1) if start else 1 for p in scored]
        baseline = trajectory.baseline.total if trajectory.baseline else None
        svg = chart.build(trajectory.instrument, weeks, [p.total for p in scored if p.total is not None], baseline)
        items.append({"trajectory": trajectory, "chart": svg, "scored": scored})
    return render(request, "measures/my_progress.html", {"patient": patient, "items": items})


@role_required(Role.PATIENT)
@require_GET
def done(request: HttpRequest, response_id: int) -> HttpResponse:
    patient = _own_patient(request, "measure-done")
    response = MeasureResponse.objects.filter(pk=response_id, patient=patient).select_related("questionnaire").first()
    if response is None:
        raise Http404
    return render(request, "measures/done.html", {"response": response, "patient": patient})


@role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def administer(request: HttpRequest, patient_id: int, slug: str) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="measure-administer")
    response, page = _fill(request, patient, _questionnaire(patient, slug), by_staff=True)
    if page is not None:
        return page
    assert response is not None
    if response.is_critical:
        messages.error(
            request,
            _("Critical answer recorded (item %s). A safety alert is open: assess risk with the patient now.")
            % ", ".join(str(n) for n in response.critical_items),
        )
    else:
        messages.success(request, _("Recorded."))
    return redirect("measures:trajectories", patient_id=patient.pk)


@role_required(*STAFF)
@require_GET
def trajectories(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="measures")
    items = []
    for trajectory in queries.trajectories(patient):
        scored = [p for p in trajectory.points if p.total is not None]
        start = timezone.localdate(scored[0].authored_at) if scored else None
        weeks = [((timezone.localdate(p.authored_at) - start).days // 7 + 1) if start else 1 for p in scored]
        baseline = trajectory.baseline.total if trajectory.baseline else None
        svg = chart.build(trajectory.instrument, weeks, [p.total for p in scored if p.total is not None], baseline)
        items.append({"trajectory": trajectory, "chart": svg})
    enrollment = intake_queries.current_enrollment(patient)
    context = {
        "patient": patient,
        "items": items,
        "available": queries.available_questionnaires(patient.program),
        "due": queries.due_measures(patient, enrollment, timezone.localdate()),
    }
    return render(request, "measures/trajectories.html", context)


@role_required(*STAFF)
@require_GET
def response_fhir(request: HttpRequest, patient_id: int, response_id: int) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="measure-export")
    response = MeasureResponse.objects.filter(pk=response_id, patient=patient).first()
    if response is None:
        raise Http404
    return JsonResponse(services.export_bundle(response), json_dumps_params={"indent": 2})


@role_required(Role.CLINICIAN, Role.DIRECTOR)
@require_GET
def caseload_progress(request: HttpRequest) -> HttpResponse:
    """Change on each measure for everyone in the person's care, worst first; a page at a time (a director sees
    the whole program). Reading the page is a read of the patients on it."""
    person = acting_person(request)
    progress = queries.progress_of(access.patients_in_care_of(person))
    order = request.GET.get("sort", "worsening")
    if order == "stalled":
        progress.sort(key=lambda row: (not row.stalled, -row.weeks_since_baseline, row.patient_id))
    else:
        order = "worsening"
        progress.sort(key=lambda row: (not row.worsening, -abs(row.change.difference), row.patient_id))
    page = Paginator(progress, PROGRESS_PAGE_SIZE).get_page(request.GET.get("page"))
    patients = Patient.objects.in_bulk({row.patient_id for row in page.object_list})
    audit.record_reads_of_list(person, sorted(patients.values(), key=lambda p: p.pk), purpose="measures-caseload")
    rows = [(patients[row.patient_id], row) for row in page.object_list]
    context = {"rows": rows, "sort": order, "page": page, "querystring": f"sort={order}"}
    return render(request, "measures/caseload.html", context)


@role_required(Role.DIRECTOR)
@require_http_methods(["GET", "POST"])
def import_questionnaire(request: HttpRequest) -> HttpResponse:
    director = acting_person(request)
    program = director.program
    if program is None:
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            questionnaire = services.import_questionnaire(
                program=program,
                actor=director,
                data=form.cleaned_data["file"],
                critical_link_ids=form.cleaned_data["critical_link_ids"],
            )
        except ServiceError as error:
            form.add_error("file", str(error))
        else:
            messages.success(request, _("Imported %s.") % questionnaire.title)
            return redirect("measures:import")
    status = 400 if request.method == "POST" else 200
    own = Questionnaire.objects.filter(program=program)
    context = {"form": form, "own": own, "builtin": services.builtin_questionnaires()}
    return render(request, "measures/import.html", context, status=status)


OCCASIONS = ("intake", "weekly", "discharge")
SCHEDULE_FIELDS = {"intake": "at_intake", "weekly": "weekly", "discharge": "at_discharge"}


def _scheduled(schedule: MeasureSchedule | None, occasion: str) -> bool:
    return bool(schedule is not None and getattr(schedule, SCHEDULE_FIELDS[occasion]))


@role_required(Role.DIRECTOR)
@require_http_methods(["GET", "POST"])
def schedules(request: HttpRequest) -> HttpResponse:
    """Which measures each track gives, and when: one checkbox per track, questionnaire and occasion."""
    director = acting_person(request)
    program = director.program
    if program is None:
        raise Http404
    tracks = list(Track.objects.filter(program=program).order_by("name"))
    available = list(queries.available_questionnaires(program))
    if request.method == "POST":
        plan = {
            (track.pk, q.pk): tuple(f"s-{track.pk}-{q.pk}-{o}" in request.POST for o in OCCASIONS)
            for track in tracks
            for q in available
        }
        try:
            services.set_schedules(program=program, actor=director, plan=plan)  # type: ignore[arg-type]
        except ServiceError as error:
            messages.error(request, str(error))
            return redirect("measures:schedules")
        messages.success(request, _("Schedules saved."))
        return redirect("measures:schedules")
    current = {(s.track_id, s.questionnaire_id): s for s in MeasureSchedule.objects.filter(track__program=program)}
    rows = [
        {
            "track": track,
            "cells": [
                {
                    "questionnaire": q,
                    "boxes": [
                        (
                            f"s-{track.pk}-{q.pk}-{o}",
                            o,
                            _scheduled(current.get((track.pk, q.pk)), o),
                        )
                        for o in OCCASIONS
                    ],
                }
                for q in available
            ],
        }
        for track in tracks
    ]
    return render(request, "measures/schedules.html", {"rows": rows, "available": available})
