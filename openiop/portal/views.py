from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts import access
from openiop.accounts.decorators import STAFF, acting_person, role_required
from openiop.accounts.models import Role
from openiop.core.errors import ServiceError
from openiop.portal import links, queries, services, structured_data, trackfinder
from openiop.portal.forms import FaqFormSet, MessageForm, PreferencesForm, ProgramPageForm, TrackFinderForm
from openiop.portal.middleware import SESSION_KEY, remember_language
from openiop.portal.models import ProgramPage

# --- public ---------------------------------------------------------------------------------------


def _page_or_404(slug: str) -> ProgramPage:
    page = queries.published_page(slug)
    if page is None:
        raise Http404
    return page


@require_GET
def program_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = _page_or_404(slug)
    tracks = queries.public_tracks(page.program)
    context = {
        "page": page,
        "program": page.program,
        "tracks": tracks,
        "faq": list(page.faq.all()),
        "hours_adult": settings.IOP_WEEKLY_HOURS_ADULT,
        "hours_adolescent": settings.IOP_WEEKLY_HOURS_ADOLESCENT,
        "json_ld": structured_data.program_json_ld(page, tracks, request.build_absolute_uri(request.path)),
        "referral_url": links.self_referral_url(page.program),
    }
    return render(request, "portal/program_page.html", context)


@require_GET
def track_finder(request: HttpRequest, slug: str) -> HttpResponse:
    page = _page_or_404(slug)
    tracks = queries.public_tracks(page.program)
    form = TrackFinderForm(request.GET or None)
    context: dict[str, Any] = {"page": page, "program": page.program, "form": form}
    if request.GET:
        if not form.is_valid():
            return render(request, "portal/track_finder.html", context, status=400)
        answers = trackfinder.Answers(
            age=form.cleaned_data["age"],
            focus=form.cleaned_data["focus"],
            times=trackfinder.parse_times(form.cleaned_data["times"]),
            modality=form.cleaned_data["modality"],
        )
        infos = [structured_data.track_info(t) for t in tracks]
        suggestion = trackfinder.suggest(infos, answers)
        by_slug = {t.slug: t for t in tracks}
        context["suggestion"] = suggestion
        context["suggested"] = [by_slug[s] for s in suggestion.tracks]
        context["referral_url"] = links.self_referral_url(
            page.program, trackfinder.referral_params(answers, suggestion)
        )
    return render(request, "portal/track_finder.html", context)


@require_GET
def self_referral(request: HttpRequest, slug: str) -> HttpResponse:
    """Our stable "refer yourself" address: forwards, with the track finder's answers, to intake's form."""
    page = _page_or_404(slug)
    target = links.referral_form_url(page.program)
    query = request.GET.urlencode()
    return redirect(f"{target}?{query}" if query else target)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    # Back to the page the person was on (the switcher is on every page; the Referer is sent same-origin).
    next_url = request.POST.get("next", "") or request.headers.get("referer", "") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if language not in services.LANGUAGE_CODES:
        return render(request, "errors/400.html", status=400)
    if request.user.is_authenticated:
        try:
            services.set_language(acting_person(request), language)
        except ServiceError:
            return render(request, "errors/400.html", status=400)
        request.session[SESSION_KEY] = language
    response = redirect(next_url)
    remember_language(response, language)
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": "OpenIOP",
        "short_name": "OpenIOP",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f4e79",
        "icons": [{"src": static("portal/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    return JsonResponse(data, content_type="application/manifest+json")


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the site root so it may control every page. It caches the shell (styles, scripts, the
    offline page) and never a page or answer with patient data."""
    shell = [
        static("openiop/site.css"),
        static("openiop/session.js"),
        static("portal/portal.js"),
        reverse("portal:offline"),
    ]
    body = render(request, "portal/sw.js", {"shell_json": json.dumps(shell), "version": "openiop-shell-v1"}).content
    return HttpResponse(body, content_type="text/javascript")


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/offline.html")


# --- patient ----------------------------------------------------------------------------------------


@role_required(Role.PATIENT)
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    patient = access.own_patient_record(request, purpose="portal-today")
    if patient is None:
        return render(request, "portal/today.html", {"patient": None})
    now = timezone.now()
    upcoming = queries.session_cards(queries.upcoming_sessions(patient, now, limit=3))
    context = {
        "patient": patient,
        "next": upcoming[0] if upcoming else None,
        "later": upcoming[1:],
        "week": queries.week_hours(patient, timezone.localdate()),
        "measures_due": links.measures_due(patient),
        "goals": links.plan_goals(patient),
        "unread": queries.unread_for_patient(patient),
        "room_opens_minutes": settings.ROOM_OPENS_MINUTES_BEFORE,
    }
    return render(request, "portal/today.html", context)


@role_required(Role.PATIENT)
@require_GET
def schedule(request: HttpRequest) -> HttpResponse:
    patient = access.own_patient_record(request, purpose="portal-schedule")
    cards = queries.session_cards(queries.upcoming_sessions(patient, timezone.now())) if patient else []
    feed = links.calendar_feed_url(acting_person(request))
    return render(request, "portal/schedule.html", {"patient": patient, "cards": cards, "feed_url": feed})


@role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def patient_messages(request: HttpRequest) -> HttpResponse:
    patient = access.own_patient_record(request, purpose="portal-messages")
    if patient is None:
        raise Http404
    person = acting_person(request)
    form = MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.send_message(patient=patient, author=person, body=form.cleaned_data["body"])
            except ServiceError as error:
                form.add_error("body", str(error))
            else:
                messages.success(request, _("Sent. Your care team will answer during working hours."))
                return redirect("portal:messages")
        status = 400
    services.mark_read(patient=patient, reader=person)
    thread = list(queries.messages_of(patient))
    return render(request, "portal/messages.html", {"patient": patient, "thread": thread, "form": form}, status=status)


@role_required(Role.PATIENT, Role.FAMILY)
@require_http_methods(["GET", "POST"])
def portal_settings(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    prefs = queries.preferences_of(person)
    form = PreferencesForm(
        request.POST or None,
        instance=prefs,
        initial={"language": prefs.language or request.LANGUAGE_CODE},
        with_messages=person.role == Role.PATIENT,
    )
    if request.method == "POST":
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in form.Meta.fields if name in form.fields}
            services.save_preferences(person, **fields)
            request.session[SESSION_KEY] = fields["language"]
            messages.success(request, _("Your settings are saved."))
            response = redirect("portal:settings")
            remember_language(response, fields["language"])
            return response
        return render(request, "portal/settings.html", {"form": form}, status=400)
    feed = links.calendar_feed_url(person)
    return render(request, "portal/settings.html", {"form": form, "feed_url": feed})


# --- staff -------------------------------------------------------------------------------------------


@role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def staff_messages(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.patient_for_user(request, patient_id, purpose="messages")
    person = acting_person(request)
    form = MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.send_message(patient=patient, author=person, body=form.cleaned_data["body"])
            except ServiceError as error:
                form.add_error("body", str(error))
            else:
                messages.success(request, _("Sent."))
                return redirect("portal:staff_messages", patient_id=patient.pk)
        status = 400
    services.mark_read(patient=patient, reader=person)
    thread = list(queries.messages_of(patient))
    return render(
        request, "portal/staff_messages.html", {"patient": patient, "thread": thread, "form": form}, status=status
    )


@role_required(Role.DIRECTOR)
@require_http_methods(["GET", "POST"])
def edit_page(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    if person.program is None:
        raise Http404
    page = services.page_for_program(person.program)
    initial_faq = [{"question": f.question, "answer": f.answer} for f in page.faq.all()] if page.pk else []
    form = ProgramPageForm(request.POST or None, instance=page)
    faq = FaqFormSet(request.POST or None, initial=initial_faq, prefix="faq")
    if request.method == "POST":
        if form.is_valid() and faq.is_valid():
            entries = [(f.cleaned_data.get("question", ""), f.cleaned_data.get("answer", "")) for f in faq.forms]
            services.save_program_page(director=person, page=form.save(commit=False), faq=entries)
            messages.success(request, _("The public page is saved."))
            return redirect("portal:edit_page")
        return render(request, "portal/edit_page.html", {"form": form, "faq": faq, "page": page}, status=400)
    return render(request, "portal/edit_page.html", {"form": form, "faq": faq, "page": page})
