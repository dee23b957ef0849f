"""Intake pages: the public self-referral form and consent signing (no
account), and the staff pages (waitlist board, referral, screening,
recommendation decision, enrollment). Views check access, validate a form,
call one service, and render."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts import access
from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import Program, Role
from openiop.audit import services as audit
from openiop.audit.middleware import client_address
from openiop.fhirapi.models import ApiClient
from openiop.referrals import forms, services
from openiop.referrals import level_of_care as loc
from openiop.referrals.models import (
    OPEN_STATUSES,
    ConsentKind,
    Recommendation,
    Referral,
    SignedConsent,
    Status,
)

REFERRAL_STAFF = (Role.DIRECTOR, Role.INTAKE, Role.CLINICIAN)
INTAKE_STAFF = (Role.DIRECTOR, Role.INTAKE)


# --- public ---------------------------------------------------------------


def _program(slug: str) -> Program:
    program = Program.objects.filter(slug=slug).first()
    if program is None:
        raise Http404
    return program


def _over_rate_limit(request: HttpRequest, program: Program) -> bool:
    """Count posts per client address in the cache (per process unless a shared
    cache is configured)."""
    key = f"referral-posts:{program.pk}:{client_address(request) or 'unknown'}"
    window = settings.REFERRAL_RATE_WINDOW_MINUTES * 60
    if cache.add(key, 1, timeout=window):
        return False
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)
        return False
    return count > settings.REFERRAL_RATE_LIMIT


@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest, program_slug: str) -> HttpResponse:
    program = _program(program_slug)
    if request.method == "GET":
        initial = forms.prefill_from_track_finder(request.GET) | {"form_token": secrets.token_urlsafe(24)}
        form = forms.SelfReferralForm(initial=initial)
        return render(request, "referrals/refer.html", {"form": form, "program": program})
    if _over_rate_limit(request, program):
        return render(request, "referrals/refer_throttled.html", {"program": program}, status=429)
    form = forms.SelfReferralForm(request.POST)
    if not form.is_valid():
        return render(request, "referrals/refer.html", {"form": form, "program": program}, status=400)
    if form.cleaned_data["website"]:
        # A bot filled the hidden field: answer as if all went well, keep nothing.
        return render(request, "referrals/refer_done.html", {"program": program, "reference": None})
    submitted = services.submit_self_referral(program, form.cleaned_data, form_token=form.cleaned_data["form_token"])
    request.session["referral_done"] = submitted.referral.pk
    return redirect("referrals:refer_done", program_slug=program.slug)


@require_GET
def refer_done(request: HttpRequest, program_slug: str) -> HttpResponse:
    program = _program(program_slug)
    referral_id = request.session.get("referral_done")
    referral = (
        Referral.objects.filter(pk=referral_id, program=program).first() if isinstance(referral_id, int) else None
    )
    if referral is None:
        return redirect("referrals:refer", program_slug=program.slug)
    context = {"program": program, "reference": referral.reference, "danger_now": referral.danger_now}
    return render(request, "referrals/refer_done.html", context)


@require_http_methods(["GET", "POST"])
def self_screen(request: HttpRequest, program_slug: str) -> HttpResponse:
    """The screening questions, answered online by the person who just referred
    themselves (this browser session only)."""
    program = _program(program_slug)
    referral_id = request.session.get("referral_done")
    referral = (
        Referral.objects.filter(pk=referral_id, program=program).first() if isinstance(referral_id, int) else None
    )
    if referral is None:
        return redirect("referrals:refer", program_slug=program.slug)
    form = forms.SelfScreeningForm(request.POST or None, initial={"danger_now": referral.danger_now})
    if request.method == "POST" and form.is_valid():
        focus = "mental-health"
        if referral.concern_substance_use:
            focus = "co-occurring" if referral.concern_mental_health else "substance-use"
        try:
            recommendation = services.record_screening(None, referral, form.cleaned_data | {"focus": focus})
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            context = {
                "program": program,
                "reference": referral.reference,
                "crisis": recommendation.level == loc.CRISIS_NOW,
                "shortfall": recommendation.dose_shortfall and recommendation.clinical_level == loc.IOP,
                "iop_hours": loc.iop_min_hours(recommendation.screening.facts(), services.thresholds()),
                "iop_days": settings.IOP_MIN_DAYS,
                "hours": recommendation.screening.hours_per_week,
                "days": recommendation.screening.days_per_week,
            }
            return render(request, "referrals/self_screened.html", context)
    status = 400 if request.method == "POST" else 200
    return render(request, "referrals/self_screen.html", {"form": form, "program": program}, status=status)


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, token: str) -> HttpResponse:
    referral = services.referral_for_consent_token(token)
    if referral is None:
        return render(request, "referrals/consent_invalid.html", status=404)
    offered = services.part2_recipient_choices(referral) if services.is_substance_use(referral) else []
    form = forms.ConsentSignForm(
        request.POST or None,
        part2_choices=[
            (client.pk, _("%(organization)s, for %(purposes)s") % {
                "organization": client.recipient_name, "purposes": client.purpose_labels
            })
            for client in offered
        ],
    )  # fmt: skip
    family = None
    recipients: list[ApiClient] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        recipients = [client for client in offered if client.pk in data["part2_recipients"]]
        if data["add_family"]:
            family = services.FamilyChoice(
                given_name=data["family_given_name"],
                family_name=data["family_family_name"],
                email=data["family_email"],
                relationship=data["family_relationship"],
                may_see_family_sessions=data["may_see_family_sessions"],
                may_see_progress_summary=data["may_see_progress_summary"],
            )
        shown = {kind: request.POST.get(f"sha256-{kind}", "") for kind in ConsentKind.values}
        try:
            services.sign_consents(
                token,
                typed_name=data["typed_name"],
                shown_hashes=shown,
                counseling_notes=data["counseling_notes"],
                family=family,
                client_address=client_address(request) or "",
                part2_recipients=[client.pk for client in recipients],
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            return render(request, "referrals/consent_done.html", {"referral": referral})
    documents = []
    kinds = services.required_kinds(referral)
    optional = [ConsentKind.COUNSELING_NOTES] if services.is_substance_use(referral) else []
    for kind in kinds + optional:
        document = services.current_document(kind)
        # The Part 2 consent is shown filled in with the organizations the person chose (as family access is).
        text = services.shown_text(document, services.consent_terms(referral, kind, None, recipients))
        documents.append(
            {"document": document, "text": text, "sha256": services.text_hash(text), "optional": kind in optional}
        )
    family_text = ""
    if family is not None:
        # Family access is signed as filled in with the person's own choices:
        # the first post shows that text, the second signs it.
        family_document = services.current_document(ConsentKind.FAMILY_ACCESS)
        family_text = services.shown_text(
            family_document, services.consent_terms(referral, ConsentKind.FAMILY_ACCESS, family)
        )
    context = {
        "referral": referral,
        "form": form,
        "documents": documents,
        "counseling_optional": bool(optional),
        "part2_offered": bool(offered),
        "family_text": family_text,
        "family_sha256": services.text_hash(family_text) if family_text else "",
    }
    return render(request, "referrals/consent.html", context, status=400 if request.method == "POST" else 200)


# --- staff ------------------------------------------------------------------


@role_required(*REFERRAL_STAFF)
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The waitlist board: every referral on its way in, oldest first."""
    person = acting_person(request)
    filters = forms.BoardFilterForm(request.GET or None)
    referrals = access.referrals_for(person)
    counts = dict(referrals.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    status = source = query = ""
    if filters.is_valid():
        status, source, query = (filters.cleaned_data[k] for k in ("status", "source", "q"))
    if status == "":
        referrals = referrals.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        referrals = referrals.filter(status=status)
    if source:
        referrals = referrals.filter(source=source)
    if query:
        referrals = referrals.filter(
            Q(reference__iexact=query) | Q(given_name__icontains=query) | Q(family_name__icontains=query)
        )
    latest = Recommendation.objects.filter(referral=OuterRef("pk")).order_by("-created_at", "-pk")
    rows = list(
        referrals.annotate(
            decision=Subquery(latest.values("decision")[:1]), final_level=Subquery(latest.values("final_level")[:1])
        ).order_by("created_at")[:300]
    )
    rows.sort(key=lambda r: (not r.needs_urgent_attention, r.created_at))
    audit.record(
        "read",
        actor=person,
        record_type="referrals.referral",
        record_id="board",
        detail={"purpose": "waitlist-board", "shown": [r.reference for r in rows][:300], "filter": request.GET.dict()},
    )
    pending = Recommendation.objects.filter(
        referral__program_id=person.program_pk, decision=Recommendation.Decision.PENDING
    ).count()
    today = timezone.localdate()
    context = {
        "rows": [
            (r, r.days_waiting(today), r.next_action(decision=r.decision, final_level=r.final_level)) for r in rows
        ],
        "filters": filters,
        "counts": [(s, counts.get(s.value, 0)) for s in Status],
        "pending_decisions": pending,
        "overrides": Recommendation.objects.filter(
            referral__program_id=person.program_pk, decision=Recommendation.Decision.OVERRIDDEN
        ).count(),
    }
    return render(request, "referrals/board.html", context)


@role_required(*REFERRAL_STAFF)
@require_http_methods(["GET", "POST"])
def new_referral(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    form = forms.StaffReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.create_staff_referral(person, form.cleaned_data)
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Referral %(ref)s saved.") % {"ref": referral.reference})
            return redirect("referrals:detail", referral_id=referral.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "referrals/new.html", {"form": form}, status=status)


def _detail_context(referral: Referral, person: Any) -> dict[str, Any]:
    recommendation = services.current_recommendation(referral)
    return {
        "next_action": referral.next_action(
            decision=recommendation.decision if recommendation else None,
            final_level=recommendation.final_level if recommendation else None,
        ),
        "referral": referral,
        "recommendation": recommendation,
        "screening": recommendation.screening if recommendation else None,
        "events": referral.events.select_related("actor"),
        "consents": referral.consents.select_related("document"),
        "decision_form": forms.DecisionForm(),
        "close_form": forms.CloseForm(),
        "can_decide": person.role in (Role.CLINICIAN, Role.DIRECTOR),
        "can_run_intake": person.role in INTAKE_STAFF,
        "today": timezone.localdate(),
        "availability": [str(label) for slot, label in forms.SLOT_CHOICES if slot in referral.availability],
    }


@role_required(*REFERRAL_STAFF)
@require_GET
def detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = access.referral_for_user(request, referral_id)
    return render(request, "referrals/detail.html", _detail_context(referral, acting_person(request)))


@role_required(*REFERRAL_STAFF)
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = access.referral_for_user(request, referral_id, purpose="screening")
    initial = {
        "stepping_down": referral.source == "step-down",
        "danger_now": referral.danger_now,
        "focus": "co-occurring"
        if referral.concern_substance_use and referral.concern_mental_health
        else ("substance-use" if referral.concern_substance_use else "mental-health"),
    }
    form = forms.ScreeningForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            recommendation = services.record_screening(acting_person(request), referral, form.cleaned_data)
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            if recommendation.level == loc.CRISIS_NOW:
                messages.error(request, _("Crisis care now: make sure the person is safe and has crisis numbers."))
            return redirect("referrals:detail", referral_id=referral.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "referrals/screen.html", {"referral": referral, "form": form}, status=status)


@role_required(Role.CLINICIAN, Role.DIRECTOR)
@require_POST
def decide(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = access.referral_for_user(request, referral_id, purpose="decision")
    person = acting_person(request)
    recommendation = services.current_recommendation(referral)
    form = forms.DecisionForm(request.POST)
    error = ""
    if recommendation is None:
        error = _("There is no recommendation to decide on yet.")
    elif not form.is_valid():
        error = _("Choose confirm or override.")
    else:
        try:
            services.decide(
                person,
                recommendation,
                confirm=form.cleaned_data["decision"] == "confirm",
                level=form.cleaned_data["level"],
                track=form.cleaned_data["track"],
                reason=form.cleaned_data["reason"],
            )
        except services.ServiceError as problem:
            error = str(problem)
    if error:
        context = _detail_context(referral, person) | {"decision_form": form, "decision_error": error}
        return render(request, "referrals/detail.html", context, status=400)
    messages.success(request, _("Decision saved."))
    return redirect("referrals:detail", referral_id=referral.pk)


def _intake_action(request: HttpRequest, referral_id: int, action: Any, done: str) -> HttpResponse:
    referral = access.referral_for_user(request, referral_id, purpose="intake-action")
    try:
        action(acting_person(request), referral)
    except services.ServiceError as error:
        context = _detail_context(referral, acting_person(request)) | {"action_error": str(error)}
        return render(request, "referrals/detail.html", context, status=400)
    messages.success(request, done)
    return redirect("referrals:detail", referral_id=referral.pk)


@role_required(*INTAKE_STAFF)
@require_POST
def send_consent(request: HttpRequest, referral_id: int) -> HttpResponse:
    def send(person: Any, referral: Referral) -> None:
        link = services.send_consent_link(person, referral)
        if not settings.EMAIL_CONFIGURED:
            # No mail server (the demo): show the link so the demo can go on.
            messages.info(request, _("No mail server is set up; the consent link is %(url)s") % {"url": link.url})

    return _intake_action(request, referral_id, send, _("Consent link sent."))


@role_required(*REFERRAL_STAFF)
@require_POST
def acknowledge(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _intake_action(request, referral_id, services.acknowledge_urgent, _("Marked as handled."))


@role_required(*INTAKE_STAFF)
@require_POST
def close(request: HttpRequest, referral_id: int) -> HttpResponse:
    form = forms.CloseForm(request.POST)
    if not form.is_valid():
        referral = access.referral_for_user(request, referral_id, purpose="intake-action")
        context = _detail_context(referral, acting_person(request)) | {"action_error": _("Choose how it ends.")}
        return render(request, "referrals/detail.html", context, status=400)

    def close_it(person: Any, referral: Referral) -> None:
        services.close_referral(person, referral, status=form.cleaned_data["status"], note=form.cleaned_data["note"])

    return _intake_action(request, referral_id, close_it, _("Referral closed."))


@role_required(*INTAKE_STAFF)
@require_http_methods(["GET", "POST"])
def enroll(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = access.referral_for_user(request, referral_id, purpose="enrollment")
    person = acting_person(request)
    recommendation = services.current_recommendation(referral)
    initial: dict[str, Any] = {
        "start_date": services.start_date_for(referral, timezone.localdate() + timedelta(days=1))
    }
    form = forms.EnrollForm(request.POST or None, program_id=referral.program_id, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrolled = services.enroll(
                person,
                referral,
                track=data["track"],
                start_date=data["start_date"],
                emergency_contact_name=data["emergency_contact_name"],
                emergency_contact_phone=data["emergency_contact_phone"],
                emergency_contact_relationship=data["emergency_contact_relationship"],
                primary_clinician=data["primary_clinician"],
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("%(name)s is enrolled (record %(record)s). An invitation to sign in has gone by email.")
                % {"name": enrolled.patient.full_name, "record": enrolled.patient.record_number},
            )
            if not settings.EMAIL_CONFIGURED:
                messages.info(
                    request,
                    _("No mail server is set up; the invitation link is %(url)s") % {"url": enrolled.invitation_url},
                )
            return redirect("referrals:detail", referral_id=referral.pk)
    context = {"referral": referral, "form": form, "recommendation": recommendation}
    return render(request, "referrals/enroll.html", context, status=400 if request.method == "POST" else 200)


# --- consents: the patient's own, and revocation ---------------------------


@role_required(Role.PATIENT)
@require_GET
def my_consents(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    own = access.patients_in_care_of(person).first()
    consents: list[SignedConsent] = []
    if own is not None:
        patient = access.patient_for_user(request, own.pk, purpose="consents")
        consents = list(patient.consents.select_related("document"))
    return render(request, "referrals/my_consents.html", {"consents": consents, "form": forms.RevokeForm()})


@role_required(Role.PATIENT, Role.DIRECTOR, Role.INTAKE)
@require_POST
def revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    consent_record = access.consent_for_user(request, consent_id)
    person = acting_person(request)
    form = forms.RevokeForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _("Say in a few words why you revoke this consent.")
    else:
        try:
            services.revoke_consent(person, consent_record, form.cleaned_data["reason"])
        except services.ServiceError as problem:
            error = str(problem)
    if person.role == Role.PATIENT:
        back = reverse("referrals:my_consents")
    else:
        back = reverse("referrals:detail", args=[consent_record.referral_id])
    if error:
        return render(request, "referrals/revoke_failed.html", {"error": error, "back": back}, status=400)
    messages.success(request, _("Consent revoked. It no longer applies, from now on."))
    return redirect(back)
