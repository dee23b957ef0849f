"""Weekly schedule pages: the director's plans (build, compare, publish), everyone's calendar, iCal feeds."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts import access
from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import Role
from openiop.audit import services as audit
from openiop.intake.models import Patient
from openiop.scheduling import services
from openiop.scheduling.models import PlanStatus, SchedulePlan, SessionKind

ALL_ROLES = (Role.DIRECTOR, Role.INTAKE, Role.CLINICIAN, Role.PATIENT, Role.FAMILY)


class BuildWeekForm(forms.Form):
    week_start = forms.DateField(label=_("Week starting"), widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(
        label=_("Solver"),
        choices=[("cp-sat", _("Optimizer (CP-SAT)")), ("greedy", _("Quick greedy (for comparison)"))],
        initial="cp-sat",
    )


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
    return render(request, "scheduling/plans.html", {"form": form, "plans": rows}, status=status)


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
    shown = [m.patient for g in groups for m in g.members.all()] + [c.patient for c in changes]
    shown += [a.patient for a in unplaced.values()]
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
            "draft": plan.status == PlanStatus.DRAFT,
        },
    )


@role_required(Role.DIRECTOR)
@require_POST
def publish(request: HttpRequest, plan_id: int) -> HttpResponse:
    director = acting_person(request)
    plan = access.schedule_plan_for_director(request, plan_id)
    try:
        created = services.publish_plan(actor=director, plan=plan)
    except services.ScheduleError as error:
        messages.error(request, str(error))
        return render(request, "scheduling/publish_refused.html", {"plan": plan, "error": str(error)}, status=409)
    messages.success(request, gettext("Published: %(n)d sessions created.") % {"n": created})
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


BLOCK_CHOICES = [
    (f"{d}-{p}", f"{day} {part}")
    for d, day in enumerate((_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri")))
    for p, part in enumerate((_("morning"), _("afternoon"), _("evening")))
]


class AvailabilityForm(forms.Form):
    blocks = forms.MultipleChoiceField(
        label=_("Free for sessions"), choices=BLOCK_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )
    family_sessions = forms.BooleanField(label=_("Treatment plan includes family sessions"), required=False)
    required_hours = forms.IntegerField(
        label=_("Required hours a week (blank: the program's default for their age)"),
        min_value=1,
        max_value=19,
        required=False,
    )


@role_required(Role.DIRECTOR, Role.INTAKE, Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def patient_availability(request: HttpRequest, patient_id: int) -> HttpResponse:
    person = acting_person(request)
    patient = access.patient_for_user(request, patient_id, purpose="availability")
    current = getattr(patient, "availability", None)
    initial = {
        "blocks": [f"{d}-{p}" for d, p in (current.blocks if current else [])],
        "family_sessions": current.family_sessions if current else False,
        "required_hours": current.required_hours if current else None,
    }
    form = AvailabilityForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            blocks = [(int(v[0]), int(v[2])) for v in form.cleaned_data["blocks"]]
            services.set_patient_availability(
                actor=person,
                patient=patient,
                blocks=blocks,
                family_sessions=form.cleaned_data["family_sessions"],
                required_hours=form.cleaned_data["required_hours"],
            )
            messages.success(request, gettext("Saved. The next plan you build uses it."))
            return redirect("scheduling:patient_availability", patient_id=patient.pk)
        status = 400
    return render(request, "scheduling/availability.html", {"form": form, "patient": patient}, status=status)
