"""Room pages: the sessions list (with the weekly dose), a clinician's "new session" form, the room itself
(device check → safety check → waiting room → call), and attendance with corrections."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts import access
from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import Role
from openiop.accounts.services import ServiceError
from openiop.audit import services as audit
from openiop.rooms import services
from openiop.rooms.forms import CorrectionForm, NewSessionForm, SafetyCheckForm
from openiop.rooms.models import Attendance
from openiop.scheduling.models import SessionStatus
from openiop.treatment import services as treatment_services

ROOM_ROLES = (Role.CLINICIAN, Role.PATIENT, Role.FAMILY)


@role_required(*ROOM_ROLES)
@require_GET
def sessions(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    since = timezone.now() - timedelta(days=7)
    rows = list(
        access.sessions_for(person)
        .filter(ends_at__gte=since)
        .prefetch_related("attendees__patient", "clinicians")
        .order_by("starts_at")[:100]
    )
    context: dict[str, Any] = {"rows": rows, "now": timezone.now()}
    if person.role == Role.PATIENT:
        patient = getattr(person, "patient_record", None)
        if patient is not None:
            audit.record("read", actor=person, record=patient, patient=patient, detail={"purpose": "weekly-dose"})
            context["dose"] = services.weekly_dose(patient)
    elif person.role == Role.CLINICIAN:
        patients = {a.patient.pk: a.patient for s in rows for a in s.attendees.all()}
        allowed = set(access.patients_in_care_of(person).filter(pk__in=patients).values_list("pk", flat=True))
        shown = [patients[pk] for pk in sorted(allowed)]
        audit.record_reads_of_list(person, shown, purpose="weekly-dose")
        doses = [(p, services.weekly_dose(p)) for p in shown]
        context["doses"] = doses
        context["at_risk"] = [(p, d) for p, d in doses if d.on_course_to_miss]
    return render(request, "rooms/sessions.html", context)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def new_session(request: HttpRequest) -> HttpResponse:
    clinician = acting_person(request)
    form = NewSessionForm(request.POST or None, patients=access.patients_in_care_of(clinician))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.create_session(
                clinician,
                kind=data["kind"],
                title=data["title"],
                starts_at=data["starts_at"],
                ends_at=data["starts_at"] + timedelta(minutes=data["minutes"]),
                patients=list(data["patients"]),
                family_guests=list(data["family_guests"]),
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Session created. Patients see it in their sessions list."))
            return redirect("rooms:room", session_id=session.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "rooms/new_session.html", {"form": form}, status=status)


@role_required(*ROOM_ROLES)
@require_GET
def room(request: HttpRequest, session_id: int) -> HttpResponse:
    room_pass = access.session_room_for_user(request, session_id)
    session = room_pass.session
    open_now = services.room_is_open(session, room_pass.role)
    needs_safety = room_pass.role == "patient" and not services.has_safety_check(session, room_pass.patient)  # type: ignore[arg-type]
    room = services.room_for(session) if open_now else None
    config = {
        "ws_url": f"/ws/rooms/{session.pk}/",
        "role": room_pass.role,
        "needs_safety": needs_safety,
        "safety_url": reverse("rooms:safety_check", kwargs={"session_id": session.pk}),
        "finish_url": reverse("rooms:finish", kwargs={"session_id": session.pk}),
        "media": room.media if room else "mesh",
        "reconnect_seconds": settings.ROOM_RECONNECT_SECONDS,
    }
    return render(
        request,
        "rooms/room.html",
        {
            "session": session,
            "room_pass": room_pass,
            "open_now": open_now,
            "config": config,
            "safety_form": SafetyCheckForm(),
            "opens_at": session.starts_at - timedelta(minutes=_opens_minutes()),
        },
    )


def _opens_minutes() -> int:
    return int(settings.ROOM_OPENS_MINUTES)


@role_required(Role.PATIENT)
@require_POST
def safety_check(request: HttpRequest, session_id: int) -> HttpResponse:
    room_pass = access.session_room_for_user(request, session_id, purpose="safety-check")
    if room_pass.patient is None:
        raise Http404
    form = SafetyCheckForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "errors": form.errors}, status=400)
    data = form.cleaned_data
    try:
        services.record_safety_check(
            room_pass.session,
            room_pass.patient,
            acting_person(request),
            at_home=data["at_home"],
            location=data["location"],
            callback_phone=data["callback_phone"],
            private_place=data["private_place"],
        )
    except ServiceError as error:
        return JsonResponse({"ok": False, "errors": {"__all__": [str(error)]}}, status=400)
    return JsonResponse({"ok": True})


def _clinician_session(request: HttpRequest, session_id: int, purpose: str) -> Any:
    room_pass = access.session_room_for_user(request, session_id, purpose=purpose)
    if room_pass.role != "clinician":
        raise Http404
    return room_pass.session


@role_required(Role.CLINICIAN)
@require_GET
def attendance(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _clinician_session(request, session_id, "attendance")
    rows = list(Attendance.objects.filter(session=session).select_related("patient", "corrected_by"))
    audit.record_reads_of_list(acting_person(request), [row.patient for row in rows], purpose="attendance")
    return render(
        request,
        "rooms/attendance.html",
        {
            "session": session,
            "rows": [(row, CorrectionForm(initial={"status": row.status, "minutes": row.minutes})) for row in rows],
            "finished": session.status == SessionStatus.COMPLETED,
        },
    )


@role_required(Role.CLINICIAN)
@require_POST
def finish(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _clinician_session(request, session_id, "finish")
    if session.status != SessionStatus.COMPLETED:
        services.finish_session(session, acting_person(request))
        messages.success(request, _("Session ended. Attendance below comes from who was in the room."))
    return redirect("rooms:attendance", session_id=session.pk)


@role_required(Role.CLINICIAN)
@require_POST
def chat_to_note(request: HttpRequest, session_id: int) -> HttpResponse:
    """Keep the room's chat in the session's draft note (the chat is otherwise never stored)."""
    session = _clinician_session(request, session_id, "chat-to-note")
    try:
        treatment_services.add_chat_to_note(acting_person(request), session, request.POST.get("transcript", ""))
    except ServiceError as error:
        return JsonResponse({"ok": False, "message": str(error)}, status=400)
    return JsonResponse(
        {
            "ok": True,
            "message": _("Chat saved to the session note."),
            "note_url": reverse("treatment:session_note", args=[session.pk]),
        }
    )


@role_required(Role.CLINICIAN)
@require_POST
def correct(request: HttpRequest, attendance_id: int) -> HttpResponse:
    row = access.attendance_for_clinician(request, attendance_id)
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            services.correct_attendance(
                row,
                acting_person(request),
                status=form.cleaned_data["status"],
                minutes=form.cleaned_data["minutes"],
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Attendance corrected; the change and your reason are in the audit log."))
            return redirect("rooms:attendance", session_id=row.session_id)
    return render(request, "rooms/correct.html", {"row": row, "form": form, "session": row.session}, status=400)
