"""Treatment pages: the patient's treatment record, plan versions, session notes, the curriculum library,
progress reviews, discharge, and the patient's own view (plan to sign, notes, discharge, check-ins)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts import access
from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import Program, Role
from openiop.core.errors import ServiceError
from openiop.intake import queries as intake_queries
from openiop.intake.models import Enrollment, EnrollmentStatus, Patient
from openiop.scheduling.models import Session, SessionKind
from openiop.treatment import queries, services, sources
from openiop.treatment.fhir import careplan_to_fhir
from openiop.treatment.forms import (
    AddendumForm,
    CheckInForm,
    ConsentForm,
    DischargeForm,
    GoalForm,
    GoalStatusForm,
    ModuleForm,
    NoteForm,
    PartForm,
    PlanForm,
    ReviewForm,
)
from openiop.treatment.models import (
    CheckIn,
    Decision,
    DischargeSummary,
    InterventionKind,
    Note,
    NoteStatus,
    PlanStatus,
    ProgressReview,
    Supervision,
    TreatmentPlan,
)
from openiop.treatment.pdf import discharge_pdf, goals_met

CLINICAL = (Role.CLINICIAN, Role.DIRECTOR)
REDISCLOSURE_NOTICE = (
    "42 CFR part 2 prohibits unauthorized use or disclosure of these records. This information has been "
    "disclosed to you from records protected by federal confidentiality rules (42 CFR part 2)."
)


def _enrollment(patient: Patient) -> Enrollment:
    enrollment = intake_queries.current_enrollment(patient)
    if enrollment is None:
        raise Http404
    return enrollment


def _modules(program_id: int) -> list[tuple[str, str]]:
    return [(m.slug, m.title) for m in queries.library(program_id)]


# --- the treatment record (staff) ---------------------------------------------------------------------------


def _record_context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    enrollment = intake_queries.current_enrollment(patient)
    plans = queries.plans_of(enrollment) if enrollment else []
    counseling = access.may_see_counseling_notes(request.user, patient)
    return {
        "patient": patient,
        "enrollment": enrollment,
        "plans": plans,
        "plan_form": PlanForm(),
        "notes": queries.patient_note_copies(patient, counseling_allowed=counseling),
        "counseling_allowed": counseling,
        "consent_form": ConsentForm(initial={"granted": "yes" if counseling else "no"}),
        "modules": queries.modules_attended(patient),
        "reviews": enrollment.progress_reviews.select_related("decided_by") if enrollment else [],
        "reviews_due": queries.review_weeks_due(enrollment) if enrollment else [],
        "discharge": DischargeSummary.objects.filter(enrollment=enrollment).first() if enrollment else None,
    }


@role_required(*CLINICAL)
@require_GET
def patient_treatment(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="treatment-record")
    return render(request, "treatment/patient_treatment.html", _record_context(request, patient))


@role_required(Role.CLINICIAN)
@require_POST
def create_plan(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="treatment-plan")
    enrollment = _enrollment(patient)
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            plan = services.create_plan(acting_person(request), enrollment, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            return redirect("treatment:plan", plan_id=plan.pk)
    context = _record_context(request, patient) | {"plan_form": form}
    return render(request, "treatment/patient_treatment.html", context, status=400)


def _plan_context(plan: TreatmentPlan, **extra: Any) -> dict[str, Any]:
    program_id = plan.enrollment.patient.program_id
    titles = dict(_modules(program_id))
    goals = list(plan.goals.prefetch_related("interventions"))
    for goal in goals:
        goal.intervention_rows = list(goal.interventions.all())  # type: ignore[attr-defined]
        for intervention in goal.intervention_rows:  # type: ignore[attr-defined]
            intervention.module_title = titles.get(intervention.module, intervention.module)
    context = {
        "plan": plan,
        "patient": plan.enrollment.patient,
        "goals": goals,
        "versions": queries.plans_of(plan.enrollment),
        "plan_form": PlanForm(initial={"problems": plan.problems, "patient_words": plan.patient_words}),
        "goal_form": GoalForm(modules=_modules(program_id)),
        "status_form": GoalStatusForm(),
    }
    return context | extra


@role_required(*CLINICAL)
@require_GET
def plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    found = access.plan_for_user(request, plan_id)
    return render(request, "treatment/plan.html", _plan_context(found))


@role_required(Role.CLINICIAN)
@require_POST
def edit_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    found = access.plan_for_user(request, plan_id)
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            services.update_plan(acting_person(request), found, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Plan saved. Signatures given to the earlier text were cleared."))
            return redirect("treatment:plan", plan_id=found.pk)
    return render(request, "treatment/plan.html", _plan_context(found, plan_form=form), status=400)


@role_required(Role.CLINICIAN)
@require_POST
def add_goal(request: HttpRequest, plan_id: int) -> HttpResponse:
    found = access.plan_for_user(request, plan_id)
    form = GoalForm(request.POST, modules=_modules(found.enrollment.patient.program_id))
    if form.is_valid():
        data = form.cleaned_data
        interventions = []
        if data["group_sessions"]:
            interventions.append(
                services.InterventionInput(InterventionKind.GROUP, data["module"], data["intervention_detail"])
            )
        if data["individual_sessions"]:
            interventions.append(
                services.InterventionInput(InterventionKind.INDIVIDUAL, "", data["intervention_detail"])
            )
        if data["family_sessions"]:
            interventions.append(services.InterventionInput(InterventionKind.FAMILY, "", data["intervention_detail"]))
        try:
            services.add_goal(
                acting_person(request),
                found,
                description=data["description"],
                target_date=data["target_date"],
                measured_by=data["measured_by"],
                objectives=data["objectives"],
                problem=data["problem"],
                interventions=tuple(interventions),
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            return redirect("treatment:plan", plan_id=found.pk)
    return render(request, "treatment/plan.html", _plan_context(found, goal_form=form), status=400)


def _plan_action(request: HttpRequest, plan_id: int, action: str) -> HttpResponse:
    found = access.plan_for_user(request, plan_id)
    person = acting_person(request)
    try:
        if action == "sign":
            result = services.sign_plan_as_clinician(person, found)
            messages.success(
                request,
                _("Plan is active.")
                if result.status == PlanStatus.ACTIVE
                else _("You signed. The plan becomes active when the patient signs it in their portal."),
            )
        elif action == "revise":
            result = services.revise_plan(person, found)
            messages.success(
                request, _("A new draft version was started. The active plan stays in force until both sign it.")
            )
        else:
            result = services.mark_plan_reviewed(person, found)
            messages.success(
                request, _("Review recorded. The next one is due %(day)s.") % {"day": result.next_review_due}
            )
    except ServiceError as error:
        messages.error(request, str(error))
        return render(request, "treatment/plan.html", _plan_context(found), status=409)
    return redirect("treatment:plan", plan_id=result.pk)


@role_required(Role.CLINICIAN)
@require_POST
def sign_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_action(request, plan_id, "sign")


@role_required(Role.CLINICIAN)
@require_POST
def revise_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_action(request, plan_id, "revise")


@role_required(Role.CLINICIAN)
@require_POST
def plan_reviewed(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_action(request, plan_id, "reviewed")


@role_required(Role.CLINICIAN)
@require_POST
def goal_status(request: HttpRequest, goal_id: int) -> HttpResponse:
    goal = access.goal_for_user(request, goal_id)
    form = GoalStatusForm(request.POST)
    if not form.is_valid():
        return render(request, "treatment/plan.html", _plan_context(goal.plan, status_form=form), status=400)
    try:
        services.set_goal_status(acting_person(request), goal, form.cleaned_data["status"])
    except ServiceError as error:
        messages.error(request, str(error))
        return render(request, "treatment/plan.html", _plan_context(goal.plan), status=409)
    return redirect("treatment:plan", plan_id=goal.plan_id)


@role_required(*CLINICAL)
@require_POST
def counseling_consent(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="counseling-consent")
    form = ConsentForm(request.POST)
    if not form.is_valid():
        context = _record_context(request, patient) | {"consent_form": form}
        return render(request, "treatment/patient_treatment.html", context, status=400)
    services.set_counseling_consent(acting_person(request), patient, granted=form.cleaned_data["granted"])
    messages.success(request, _("Counseling-notes consent updated."))
    return redirect("treatment:patient_treatment", patient_id=patient.pk)


@role_required(*CLINICAL)
@require_GET
def export(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's treatment record as JSON: FHIR CarePlans (with their Goals), modules attended, the
    patient's copy of each note (counseling notes only with consent), and the discharge summary."""
    patient = access.patient_for_user(request, patient_id, purpose="treatment-export")
    counseling = access.may_see_counseling_notes(request.user, patient)
    enrollment = intake_queries.current_enrollment(patient)
    summary = DischargeSummary.objects.filter(enrollment=enrollment).first() if enrollment else None
    body = {
        "notice": REDISCLOSURE_NOTICE,
        "patient": {"record_number": patient.record_number, "name": patient.full_name},
        "care_plans": [careplan_to_fhir(p) for p in queries.plans_of(enrollment)] if enrollment else [],
        "modules_attended": [{"module": m.title, "date": m.day.isoformat()} for m in queries.modules_attended(patient)],
        "notes": [
            {
                "date": copy.day.isoformat(),
                "kind": copy.kind,
                "counseling_note": copy.note.counseling_note,
                "module": copy.module,
                "topic": copy.topic,
                "observations": copy.observations,
                "data": copy.data,
                "assessment": copy.assessment,
                "plan": copy.plan,
                "own_part": {
                    "participation": copy.own_part.participation,
                    "progress": copy.own_part.progress,
                    "risk": copy.own_part.risk,
                }
                if copy.own_part
                else None,
                "addenda": copy.addenda,
            }
            for copy in queries.patient_note_copies(patient, counseling_allowed=counseling)
        ],
        "discharge": {
            "reason": summary.reason,
            "date": summary.discharge_date.isoformat(),
            "hours_attended": str(summary.hours_attended),
            "outpatient_therapist": summary.outpatient_therapist,
        }
        if summary
        else None,
    }
    response = HttpResponse(json.dumps(body, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="treatment-{patient.record_number}.json"'
    return response


# --- sessions and notes -------------------------------------------------------------------------------------


@role_required(Role.CLINICIAN)
@require_GET
def sessions(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    since = timezone.now() - timedelta(days=14)
    rows = (
        access.sessions_for_clinician(person)
        .filter(starts_at__gte=since)
        .select_related("therapy_group", "note")
        .order_by("-starts_at")[:100]
    )
    return render(request, "treatment/sessions.html", {"sessions": rows, "now": timezone.now()})


def _note_context(session: Session, note: Note | None, person_id: int, **extra: Any) -> dict[str, Any]:
    attendees = list(Patient.objects.filter(session_attendances__session=session).order_by("family_name", "given_name"))
    parts = {part.patient_id: part for part in note.parts.all()} if note else {}
    rows = [
        (
            patient,
            PartForm(prefix=f"p{patient.pk}", initial=_part_initial(parts.get(patient.pk))),
            parts.get(patient.pk),
        )
        for patient in attendees
    ]
    draft = note or Note(session=session, kind=session.kind, module=session.module)
    context = {
        "session": session,
        "note": note,
        "rows": rows,
        "form": NoteForm(instance=draft, modules=_modules(session.program_id)),
        "addendum_form": AddendumForm(),
        "flagged": services.names_in_shared_part(note) if note and not note.is_locked else [],
        "is_group": session.kind == SessionKind.GROUP,
        "module_title": queries.module_title(session.program_id, note.module) if note and note.module else "",
        "can_cosign": note is not None
        and note.status == NoteStatus.AWAITING_COSIGN
        and Supervision.objects.filter(trainee_id=note.author_id, supervisor_id=person_id).exists(),
    }
    return context | extra


def _part_initial(part: Any) -> dict[str, str]:
    if part is None:
        return {}
    return {"participation": part.participation, "progress": part.progress, "risk": part.risk}


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def session_note(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access.session_for_clinician(request, session_id)
    person = acting_person(request)
    note = Note.objects.filter(session=session).first()
    if request.method == "GET":
        return render(request, "treatment/session_note.html", _note_context(session, note, person.pk))
    draft = note or Note(session=session, kind=session.kind, module=session.module)
    form = NoteForm(request.POST, instance=draft, modules=_modules(session.program_id))
    attendee_ids = list(session.attendees.values_list("patient_id", flat=True))
    part_forms = {pid: PartForm(request.POST, prefix=f"p{pid}") for pid in attendee_ids}

    def again(status: int) -> HttpResponse:
        """The page again with what was typed, and the names flagged in the saved draft."""
        saved = Note.objects.filter(session=session).first()
        context = _note_context(session, saved, person.pk, form=form)
        if saved is None or not saved.is_locked:
            context["rows"] = [(p, part_forms.get(p.pk, f), part) for p, f, part in context["rows"]]
        return render(request, "treatment/session_note.html", context, status=status)

    if not form.is_valid() or not all(f.is_valid() for f in part_forms.values()):
        return again(400)
    try:
        note = services.start_note(person, session)
        fields = {name: form.cleaned_data[name] for name in form.fields}
        parts = {pid: services.PartInput(**f.cleaned_data) for pid, f in part_forms.items()}
        services.save_note(person, note, fields=fields, parts=parts)
        if request.POST.get("action") == "sign":
            note = services.sign_note(person, note)
            messages.success(
                request,
                _("Note signed and locked.")
                if note.status == NoteStatus.SIGNED
                else _("Note signed; it waits for your supervisor's co-signature."),
            )
        else:
            messages.success(request, _("Draft saved."))
    except ServiceError as error:
        messages.error(request, str(error))
        return again(409)
    return redirect("treatment:session_note", session_id=session.pk)


@role_required(Role.CLINICIAN)
@require_POST
def add_addendum(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access.session_for_clinician(request, session_id)
    person = acting_person(request)
    note = Note.objects.filter(session=session).first()
    form = AddendumForm(request.POST)
    if note is None or not form.is_valid():
        context = _note_context(session, note, person.pk, addendum_form=form)
        return render(request, "treatment/session_note.html", context, status=400)
    try:
        services.add_addendum(person, note, form.cleaned_data["text"])
    except ServiceError as error:
        messages.error(request, str(error))
        return render(request, "treatment/session_note.html", _note_context(session, note, person.pk), status=409)
    messages.success(request, _("Addendum added."))
    return redirect("treatment:session_note", session_id=session.pk)


@role_required(Role.CLINICIAN)
@require_POST
def cosign(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access.session_for_clinician(request, session_id)
    person = acting_person(request)
    note = Note.objects.filter(session=session).first()
    if note is None:
        messages.error(request, _("There is no note to co-sign."))
        return render(request, "treatment/session_note.html", _note_context(session, note, person.pk), status=409)
    try:
        services.cosign_note(person, note)
    except ServiceError as error:
        messages.error(request, str(error))
        return render(request, "treatment/session_note.html", _note_context(session, note, person.pk), status=409)
    messages.success(request, _("Note co-signed."))
    return redirect("treatment:session_note", session_id=session.pk)


# --- curriculum ---------------------------------------------------------------------------------------------


@role_required(*CLINICAL)
@require_http_methods(["GET", "POST"])
def curriculum(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    form = ModuleForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add_module(person, Program.objects.get(pk=person.program_pk), **form.cleaned_data)
            except ServiceError as error:
                form.add_error("slug", str(error))
            else:
                messages.success(request, _("Module added to the library."))
                return redirect("treatment:curriculum")
        return render(
            request,
            "treatment/curriculum.html",
            {"modules": queries.library(person.program_pk), "form": form},
            status=400,
        )
    return render(request, "treatment/curriculum.html", {"modules": queries.library(person.program_pk), "form": form})


# --- progress reviews ---------------------------------------------------------------------------------------


def _review_context(request: HttpRequest, patient: Patient, enrollment: Enrollment, **extra: Any) -> dict[str, Any]:
    due = queries.review_weeks_due(enrollment)
    week = enrollment.week_of_care(timezone.localdate())
    plan = queries.plan_in_force(enrollment)
    context = {
        "patient": patient,
        "enrollment": enrollment,
        "week": week,
        "due": due,
        "dose": sources.dose_delivered(enrollment),
        "trajectories": sources.measure_trajectories(enrollment),
        "plan": plan,
        "goals": plan.goals.all() if plan else [],
        "notes": queries.patient_note_copies(
            patient, counseling_allowed=access.may_see_counseling_notes(request.user, patient), limit=5
        ),
        "reviews": ProgressReview.objects.filter(enrollment=enrollment).select_related("decided_by"),
        "form": ReviewForm(initial={"week": due[-1] if due else week}),
    }
    return context | extra


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def progress_review(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="progress-review")
    enrollment = _enrollment(patient)
    if request.method == "GET":
        return render(request, "treatment/progress_review.html", _review_context(request, patient, enrollment))
    form = ReviewForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            review = services.decide_review(
                acting_person(request),
                enrollment,
                week=data["week"],
                decision=data["decision"],
                reason=data["reason"],
                extend_weeks=data["extend_weeks"] or 0,
                effective=data["effective"],
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Decision recorded. Planned end date: %(day)s.") % {"day": review.new_planned_end}
            )
            if review.decision in (Decision.DISCHARGE, Decision.STEP_DOWN, Decision.STEP_UP):
                # leaving the IOP: the discharge summary is the next step
                return redirect("treatment:discharge", patient_id=patient.pk)
            return redirect("treatment:progress_review", patient_id=patient.pk)
    return render(
        request, "treatment/progress_review.html", _review_context(request, patient, enrollment, form=form), status=400
    )


# --- discharge ----------------------------------------------------------------------------------------------


def measure_change_text(enrollment: Enrollment) -> str:
    """A line per questionnaire, first and last score of the episode, to start the summary's wording."""
    lines = []
    for t in sources.measure_trajectories(enrollment):
        if t.baseline is None or t.latest is None or len(t.scores) < 2:
            continue
        verdicts = [
            label
            for label, flag in (
                (_("reliable improvement"), t.reliable_improvement),
                (_("reliable worsening"), t.reliable_worsening),
                (_("response"), t.response),
                (_("remission"), t.remission),
            )
            if flag
        ]
        lines.append(f"{t.instrument}: {t.baseline} → {t.latest}" + (f" ({', '.join(verdicts)})" if verdicts else ""))
    return "\n".join(lines)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def discharge(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="discharge")
    enrollment = _enrollment(patient)
    existing = DischargeSummary.objects.filter(enrollment=enrollment).first()
    if existing is not None:
        return redirect("treatment:patient_treatment", patient_id=patient.pk)
    hours = sources.hours_attended(enrollment)
    plan = queries.plan_in_force(enrollment)
    form = DischargeForm(
        request.POST or None,
        initial={
            "discharge_date": timezone.localdate(),
            "services_received": queries.services_received_text(enrollment),
            "hours_attended": hours,
            "measure_change": measure_change_text(enrollment),
        },
    )
    context = {
        "patient": patient,
        "enrollment": enrollment,
        "form": form,
        "plan": plan,
    }
    if request.method == "POST":
        if form.is_valid():
            try:
                summary = services.discharge(acting_person(request), enrollment, **form.cleaned_data)
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Discharged. The summary is shared with the patient in their portal."))
                return redirect("treatment:discharge_pdf", discharge_id=summary.pk)
        return render(request, "treatment/discharge.html", context, status=400)
    return render(request, "treatment/discharge.html", context)


@role_required(Role.CLINICIAN, Role.DIRECTOR, Role.PATIENT)
@require_GET
def discharge_pdf_view(request: HttpRequest, discharge_id: int) -> HttpResponse:
    summary = access.discharge_for_user(request, discharge_id)
    response = HttpResponse(discharge_pdf(summary), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="discharge-{summary.discharge_date:%Y-%m-%d}.pdf"'
    return response


# --- the patient's own view ---------------------------------------------------------------------------------


def _own_patient(request: HttpRequest, purpose: str) -> Patient:
    own = access.patients_in_care_of(request.user).first()
    if own is None:
        raise Http404
    return access.patient_for_user(request, own.pk, purpose=purpose)


@role_required(Role.PATIENT)
@require_GET
def my_treatment(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request, "portal-treatment")
    enrollment = intake_queries.current_enrollment(patient)
    plans = queries.plans_of(enrollment) if enrollment else []
    summary = DischargeSummary.objects.filter(enrollment=enrollment).first() if enrollment else None
    context = {
        "patient": patient,
        "enrollment": enrollment,
        "draft": next((p for p in plans if p.status == PlanStatus.DRAFT), None),
        "current": next((p for p in plans if p.status in (PlanStatus.ACTIVE, PlanStatus.COMPLETED)), None),
        "notes": queries.patient_note_copies(
            patient, counseling_allowed=access.may_see_counseling_notes(request.user, patient)
        ),
        "modules": queries.modules_attended(patient),
        "discharge": summary,
        "goals_met": goals_met(summary) if summary else None,
        "check_ins": list(summary.check_ins.all()) if summary else [],
        "today": timezone.localdate(),
        "finished": enrollment is not None and enrollment.status == EnrollmentStatus.FINISHED,
    }
    return render(request, "treatment/my_treatment.html", context)


@role_required(Role.PATIENT)
@require_POST
def my_plan_sign(request: HttpRequest, plan_id: int) -> HttpResponse:
    found = access.plan_for_user(request, plan_id)
    try:
        result = services.sign_plan_as_patient(acting_person(request), found)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("treatment:my_treatment")
    messages.success(
        request,
        _("Thank you. Your plan is now active.")
        if result.status == PlanStatus.ACTIVE
        else _("Thank you for signing. The plan becomes active when your clinician signs it too."),
    )
    return redirect("treatment:my_treatment")


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def my_check_in(request: HttpRequest, check_in_id: int) -> HttpResponse:
    check_in: CheckIn = access.check_in_for_patient(request, check_in_id)
    form = CheckInForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.answer_check_in(acting_person(request), check_in, **form.cleaned_data)
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                check_in.refresh_from_db()
                return render(
                    request, "treatment/check_in.html", {"check_in": check_in, "form": None, "answered": True}
                )
        return render(request, "treatment/check_in.html", {"check_in": check_in, "form": form}, status=400)
    return render(request, "treatment/check_in.html", {"check_in": check_in, "form": form})
