"""Weekly schedule pages: the director's plans (build, compare, publish), everyone's calendar, iCal feeds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts import access
from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import Role, User
from openiop.audit import services as audit
from openiop.intake.models import Patient
from openiop.scheduling import services
from openiop.scheduling.forms import (
    DAY_NAMES,
    AvailabilityForm,
    BuildWeekForm,
    ClinicianSettingsForm,
    MergeGroupsForm,
    OwnAvailabilityForm,
    block_values,
    blocks_of,
    week_rows,
)
from openiop.scheduling.models import ClinicianAvailability, PlanStatus, SchedulePlan, SessionKind
from openiop.scheduling.problem import BLOCK_HOURS

ALL_ROLES = (Role.DIRECTOR, Role.INTAKE, Role.CLINICIAN, Role.PATIENT, Role.FAMILY)


def _next_monday() -> date:
    today = timezone.localdate()
    return services.monday_of(today) + timedelta(days=7)


@role_required(Role.DIRECTOR)
@require_http_methods(["GET", "POST"])
def plans(request: HttpRequest) -> HttpResponse:
    director = acting_person(request)
    form = BuildWeekForm(request.POST or None, initial={"week_start": _next_monday()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                plan = services.create_plan(
                    actor=director,
                    program=director.program,  # type: ignore[arg-type]
                    week_start=form.cleaned_data["week_start"],
                    method=form.cleaned_data["method"],
                )
            except services.ScheduleError as error:
                form.add_error(None, str(error))
            else:
                return redirect("scheduling:plan_detail", plan_id=plan.pk)
        status = 400
    rows = SchedulePlan.objects.filter(program_id=director.program_pk)[:30]
    unschedulable = services.unschedulable_clinicians(director.program_pk)
    return render(
        request,
        "scheduling/plans.html",
        {"form": form, "plans": rows, "unschedulable": unschedulable},
        status=status,
    )


@role_required(Role.DIRECTOR)
@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    director = acting_person(request)
    plan = access.schedule_plan_for_director(request, plan_id)
    groups = list(plan.groups.select_related("track", "facilitator").prefetch_related("members__patient"))
    base, changes = services.plan_changes(plan)
    unplaced = {a.patient_id: a for a in plan.assignments.select_related("patient").filter(at_dose=False)}
    names = {p.pk: p for p in Patient.objects.filter(pk__in=[e["patient"] for e in plan.explanations])}
    explanations = [
        {"patient": names.get(e["patient"]), "reason": e["reason"], "fix": e["fix"], "helps": len(e["helps"])}
        for e in plan.explanations
    ]
    draft = plan.status == PlanStatus.DRAFT
    small = services.small_groups_of(plan)
    session_rows: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    shown = [m.patient for g in groups for m in g.members.all()] + [c.patient for c in changes]
    shown += [a.patient for a in unplaced.values()]
    if draft:
        diff = services.session_changes(plan)
        counts = diff.counts
        in_diff = {p.pk: p for p in Patient.objects.filter(pk__in=diff.patient_ids())}
        shown += list(in_diff.values())
        labels = {pk: p.full_name for pk, p in in_diff.items()}
        session_rows = [
            {
                "action": c.action,
                "starts_at": c.starts_at,
                "title": c.title,
                "kind": c.kind,
                "patients": ", ".join(sorted(labels[p] for p in (c.after()[1] or c.before()[1]) if p in labels)),
                "what": services.describe_change(c, labels),
            }
            for c in diff.visible
        ]
    people = {m.patient.pk: m.patient for g in groups for m in g.members.all()}
    audit.record_reads_of_list(director, list({p.pk: p for p in shown}.values()), purpose="schedule-plan")
    return render(
        request,
        "scheduling/plan_detail.html",
        {
            "plan": plan,
            "groups": groups,
            "base": base,
            "changes": changes,
            "explanations": explanations,
            "draft": draft,
            "session_rows": session_rows,
            "session_counts": counts,
            "kept_rows": [r for r in session_rows if r["action"] == services.Action.KEEP],
            "small_groups": [
                {
                    "group": g,
                    "members": [people[int(m)] for m in g.members if int(m) in people],
                    "merges": [o for o in g.options if o.everyone_fits],
                }
                for g in small
            ],
            "group_kind": SessionKind.GROUP,
        },
    )


@role_required(Role.DIRECTOR)
@require_POST
def merge_groups(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Merge a group below its minimum size into another group of the draft plan (one the page offered)."""
    director = acting_person(request)
    plan = access.schedule_plan_for_director(request, plan_id)
    form = MergeGroupsForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "scheduling/publish_refused.html",
            {"plan": plan, "error": gettext("Choose the group to merge and the group to merge it into."),
             "title": gettext("Not merged")},
            status=400,
        )  # fmt: skip
    try:
        moved = services.merge_plan_groups(
            actor=director, plan=plan, source_id=form.cleaned_data["source"], target_id=form.cleaned_data["target"]
        )
    except services.ScheduleError as error:
        return render(
            request,
            "scheduling/publish_refused.html",
            {"plan": plan, "error": str(error), "title": gettext("Not merged")},
            status=409,
        )
    messages.success(request, gettext("Merged: %(n)d people moved. Check the plan, then publish.") % {"n": moved})
    return redirect("scheduling:plan_detail", plan_id=plan.pk)


@role_required(Role.DIRECTOR)
@require_POST
def publish(request: HttpRequest, plan_id: int) -> HttpResponse:
    director = acting_person(request)
    plan = access.schedule_plan_for_director(request, plan_id)
    try:
        result = services.publish_plan(actor=director, plan=plan)
    except services.ScheduleError as error:
        messages.error(request, str(error))
        return render(request, "scheduling/publish_refused.html", {"plan": plan, "error": str(error)}, status=409)
    messages.success(
        request,
        gettext(
            "Published: %(created)d sessions created, %(updated)d updated, %(cancelled)d cancelled, "
            "%(unchanged)d unchanged; %(notified)d people notified."
        )
        % {
            "created": result.created,
            "updated": result.updated,
            "cancelled": result.cancelled,
            "unchanged": result.unchanged,
            "notified": result.notified,
        },
    )
    for words in result.kept:
        messages.warning(request, words)
    if result.passed:
        messages.warning(
            request,
            gettext(
                "%(n)d sessions the plan puts at times already past this week were not created; the people "
                "concerned keep what they had."
            )
            % {"n": result.passed},
        )
    return redirect("scheduling:plan_detail", plan_id=plan.pk)


def _week_param(request: HttpRequest) -> date:
    raw = request.GET.get("week", "")
    try:
        return services.monday_of(date.fromisoformat(raw)) if raw else services.monday_of(timezone.localdate())
    except ValueError:
        raise Http404 from None


@role_required(Role.DIRECTOR, Role.INTAKE, Role.CLINICIAN)
@require_GET
def week(request: HttpRequest) -> HttpResponse:
    """A week grid of the person's own sessions (a clinician's groups and appointments). Titles name the kind
    of session, not the patient."""
    person = acting_person(request)
    start = _week_param(request)
    begin = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    sessions = services.sessions_for(person, begin, begin + timedelta(days=7))
    return render(
        request,
        "scheduling/week.html",
        {
            "week_start": start,
            "rows": services.week_grid(sessions, start),
            "days": [start + timedelta(days=d) for d in range(5)],
            "previous": start - timedelta(days=7),
            "next": start + timedelta(days=7),
            "group_kind": SessionKind.GROUP,
        },
    )


@role_required(Role.PATIENT, Role.FAMILY)
@require_GET
def my_sessions(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    since = timezone.now() - timedelta(hours=3)
    sessions = services.sessions_for(person, since, since + timedelta(days=28))
    return render(request, "scheduling/my_sessions.html", {"sessions": sessions})


@role_required(*ALL_ROLES)
@require_http_methods(["GET", "POST"])
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """Show whether a private feed exists; POST action=renew makes a new link, action=revoke ends it."""
    person = acting_person(request)
    new_url = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "renew":
            token = services.issue_feed(actor=person)
            new_url = request.build_absolute_uri(reverse("scheduling:calendar_feed", kwargs={"token": token}))
        elif action == "revoke":
            services.revoke_feed(actor=person)
            messages.success(request, gettext("Your calendar link no longer works."))
            return redirect("scheduling:calendar_settings")
        else:
            return render(request, "scheduling/calendar_settings.html", {"active": False, "bad": True}, status=400)
    active = person.calendar_feeds.filter(revoked_at__isnull=True).exists()
    return render(request, "scheduling/calendar_settings.html", {"active": active, "new_url": new_url})


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private iCal feed. The token is the only credential: unknown or revoked gives the ordinary 404."""
    owner = services.feed_owner(token)
    if owner is None:
        raise Http404
    response = HttpResponse(services.calendar_bytes(owner), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(Role.DIRECTOR, Role.INTAKE, Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def patient_availability(request: HttpRequest, patient_id: int) -> HttpResponse:
    person = acting_person(request)
    patient = access.patient_for_user(request, patient_id, purpose="availability")
    current = getattr(patient, "availability", None)
    initial = {
        "blocks": block_values(current.blocks if current else []),
        "family_sessions": current.family_sessions if current else False,
        "required_hours": current.required_hours if current else None,
    }
    form = AvailabilityForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.set_patient_availability(
                actor=person,
                patient=patient,
                blocks=blocks_of(form.cleaned_data["blocks"]),
                family_sessions=form.cleaned_data["family_sessions"],
                required_hours=form.cleaned_data["required_hours"],
            )
            messages.success(request, gettext("Saved. The next plan you build uses it."))
            return redirect("scheduling:patient_availability", patient_id=patient.pk)
        status = 400
    return render(
        request,
        "scheduling/availability.html",
        {"form": form, "patient": patient, "rows": week_rows(form["blocks"]), "days": DAY_NAMES},
        status=status,
    )


@role_required(Role.DIRECTOR)
@require_GET
def clinicians(request: HttpRequest) -> HttpResponse:
    """Every clinician's scheduler settings at a glance; those without free times cannot be scheduled."""
    director = acting_person(request)
    rows = services.clinician_rows(director.program_pk)
    return render(
        request,
        "scheduling/clinicians.html",
        {"rows": rows, "unset": [r for r in rows if not r.schedulable]},
    )


def _save_availability(
    request: HttpRequest,
    form: OwnAvailabilityForm,
    clinician: User,
    limits: services.ClinicianLimits | None,
) -> tuple[bool, list[services.GroupClash]]:
    """Save through the service. Giving up time a group they lead meets in comes back as clashes to confirm;
    anything else the service refuses goes on the form."""
    try:
        services.save_clinician_availability(
            actor=acting_person(request),
            clinician=clinician,
            blocks=blocks_of(form.cleaned_data["blocks"]),
            limits=limits,
            confirm=form.cleaned_data["confirm"],
        )
    except services.GroupClashError as clash:
        return False, clash.clashes
    except services.ScheduleError as error:
        form.add_error(None, str(error))
        return False, []
    return True, []


def _availability_page(
    request: HttpRequest, template: str, form: OwnAvailabilityForm, clinician: User, clashes: list[Any], status: int
) -> HttpResponse:
    row = ClinicianAvailability.objects.filter(clinician=clinician).first()
    free = len(services.blocks_set(row.blocks)) if row else 0
    return render(
        request,
        template,
        {
            "form": form,
            "clinician": clinician,
            "availability": row,
            "limits": row or ClinicianAvailability(),  # unsaved: the defaults the scheduler would start from
            "free_blocks": free,
            "free_hours": free * BLOCK_HOURS,
            "groups": services.groups_led_by(clinician),
            "clashes": clashes,
            "rows": week_rows(form["blocks"]),
            "days": DAY_NAMES,
        },
        status=status,
    )


@role_required(Role.DIRECTOR)
@require_http_methods(["GET", "POST"])
def clinician_availability(request: HttpRequest, clinician_id: int) -> HttpResponse:
    """The director sets a clinician's free times, hours, caseload and whether they see adolescents."""
    clinician = access.clinician_for_director(request, clinician_id)
    row = ClinicianAvailability.objects.filter(clinician=clinician).first()
    current = row or ClinicianAvailability()  # not saved: the model's defaults as a starting point
    form = ClinicianSettingsForm(
        request.POST or None,
        initial={
            "blocks": block_values(current.blocks),
            "max_hours": current.max_hours,
            "max_caseload": current.max_caseload,
            "sees_adolescents": current.sees_adolescents,
        },
    )
    clashes: list[services.GroupClash] = []
    if request.method == "POST":
        if form.is_valid():
            limits = services.ClinicianLimits(
                form.cleaned_data["max_hours"], form.cleaned_data["max_caseload"], form.cleaned_data["sees_adolescents"]
            )
            saved, clashes = _save_availability(request, form, clinician, limits)
            if saved:
                messages.success(
                    request,
                    gettext("Saved %(name)s's availability. The next plan you build uses it.")
                    % {"name": clinician.display_name},
                )
                return redirect("scheduling:clinicians")
        status = 409 if clashes else 400
        return _availability_page(request, "scheduling/clinician_settings.html", form, clinician, clashes, status)
    return _availability_page(request, "scheduling/clinician_settings.html", form, clinician, clashes, 200)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def my_availability(request: HttpRequest) -> HttpResponse:
    """A clinician's own free times. The director decides their hours, caseload and adolescents."""
    clinician = acting_person(request)
    row = ClinicianAvailability.objects.filter(clinician=clinician).first()
    form = OwnAvailabilityForm(request.POST or None, initial={"blocks": block_values(row.blocks if row else [])})
    if request.method == "POST":
        clashes: list[services.GroupClash] = []
        if form.is_valid():
            saved, clashes = _save_availability(request, form, clinician, None)
            if saved:
                messages.success(request, gettext("Saved. The next weekly plan uses your new times."))
                return redirect("scheduling:my_availability")
        status = 409 if clashes else 400
        return _availability_page(request, "scheduling/my_availability.html", form, clinician, clashes, status)
    return _availability_page(request, "scheduling/my_availability.html", form, clinician, [], 200)
