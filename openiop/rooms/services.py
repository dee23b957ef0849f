"""Writes for session rooms. Each runs in a transaction and writes its audit entry; live messages go on commit.

Room-side messages to browsers (admit, remove) are sent by the consumer layer (openiop/rooms/signals.py
helpers) after these return, because they address WebSocket connections, not pages."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.accounts.access import patients_in_care_of
from openiop.accounts.models import Role, User
from openiop.accounts.services import ServiceError
from openiop.audit import services as audit
from openiop.core import live
from openiop.intake.models import FamilyAccess, Patient
from openiop.rooms import janus, rules
from openiop.rooms.models import (
    Attendance,
    AttendanceStatus,
    MediaMode,
    Participant,
    ParticipantState,
    PresenceEvent,
    Room,
    SafetyCheck,
)
from openiop.safety import services as safety
from openiop.safety.models import AlertSource
from openiop.scheduling.models import Population, Session, SessionAttendee, SessionKind, SessionStatus

log = logging.getLogger(__name__)

MAX_GROUP = 12  # DESIGN.md: therapy groups of at most 12


# --- sessions and rooms -------------------------------------------------------------------------------


def _media_for(people: int) -> str:
    return MediaMode.SFU if people > settings.ROOM_MESH_MAX and janus.enabled() else MediaMode.MESH


def create_session(
    clinician: User,
    *,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    patients: list[Patient],
    family_guests: list[User] | None = None,
    title: str = "",
) -> Session:
    """A session led by `clinician` with its room (until the scheduler creates sessions)."""
    family_guests = family_guests or []
    if clinician.role != Role.CLINICIAN or clinician.program_id is None:
        raise ServiceError(_("Only a clinician can start a session."))
    if ends_at <= starts_at:
        raise ServiceError(_("The session must end after it starts."))
    if not patients:
        raise ServiceError(_("Choose at least one patient."))
    allowed = set(patients_in_care_of(clinician).values_list("pk", flat=True))
    if any(patient.pk not in allowed for patient in patients):
        raise ServiceError(_("You can only invite patients in your care."))
    if len(patients) > MAX_GROUP:
        raise ServiceError(_("A group meets with at most %(n)s patients.") % {"n": MAX_GROUP})
    if kind in (SessionKind.INDIVIDUAL, SessionKind.FAMILY) and len(patients) != 1:
        raise ServiceError(_("An individual or family session is for one patient."))
    if kind != SessionKind.FAMILY and family_guests:
        raise ServiceError(_("Family members can only be invited to a family session."))
    for guest in family_guests:
        consented = (
            FamilyAccess.objects.filter(
                family_member=guest,
                patient__in=patients,
                status=FamilyAccess.Status.ACTIVE,
                may_see_family_sessions=True,
            )
            .filter(Q(consent__isnull=True) | Q(consent__status="active"))
            .exists()
        )
        if not consented:
            raise ServiceError(_("%(name)s has no consent from this patient for family sessions.") % {"name": guest})
    with transaction.atomic():
        session = Session.objects.create(
            program_id=clinician.program_id,
            kind=kind,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            track=_track_of(patients[0]),
        )
        session.clinicians.add(clinician)
        session.family_guests.add(*family_guests)
        SessionAttendee.objects.bulk_create([SessionAttendee(session=session, patient=p) for p in patients])
        room = room_for(session)
        audit.record(
            "create",
            actor=clinician,
            record=session,
            patient=patients[0] if len(patients) == 1 else None,
            detail={
                "kind": kind,
                "patients": [p.pk for p in patients],
                "family_guests": [g.pk for g in family_guests],
                "media": room.media,
            },
        )
    return session


def _track_of(patient: Patient) -> Any:
    enrollment = patient.enrollments.filter(status="active").select_related("track").first()
    return enrollment.track if enrollment else None


def room_for(session: Session) -> Room:
    """The session's room, created on first use (sessions from the scheduler get theirs here)."""
    room = Room.objects.filter(session=session).first()
    if room is not None:
        return room
    people = session.clinicians.count() + session.attendees.count() + session.family_guests.count()
    media = _media_for(people)
    fields: dict[str, Any] = {"media": media}
    if media == MediaMode.SFU:
        fields.update(
            janus_room=secrets.randbelow(2**52) + 1,
            janus_secret=secrets.token_urlsafe(24),
            janus_pin=secrets.token_urlsafe(12),
        )
    room, _created = Room.objects.get_or_create(session=session, defaults=fields)
    return room


def room_is_open(session: Session, role: str, now: datetime | None = None) -> bool:
    """Clinicians may enter any time before it is finished; others from ROOM_OPENS_MINUTES before the start
    until the session is finished (or its scheduled end has long passed)."""
    now = now or timezone.now()
    if session.status == SessionStatus.COMPLETED:
        return False
    if role == "clinician":
        return True
    opens = session.starts_at - timedelta(minutes=settings.ROOM_OPENS_MINUTES)
    return opens <= now <= session.ends_at + timedelta(hours=1)


def janus_credentials(room: Room, *, display: str) -> dict[str, Any]:
    """What an admitted browser needs to join the room's Janus room; recreates it if Janus lost it."""
    assert room.media == MediaMode.SFU and room.janus_room is not None
    janus.ensure_room(
        room.janus_room, secret=room.janus_secret, pin=room.janus_pin, description=f"OpenIOP session {room.session_id}"
    )
    return {"url": settings.JANUS_CLIENT_URL, "room": room.janus_room, "pin": room.janus_pin, "display": display}


def ice_servers() -> list[dict[str, Any]]:
    servers: list[dict[str, Any]] = []
    if settings.STUN_URLS:
        servers.append({"urls": settings.STUN_URLS})
    if settings.TURN_URLS:
        servers.append(
            {"urls": settings.TURN_URLS, "username": settings.TURN_USERNAME, "credential": settings.TURN_PASSWORD}
        )
    return servers


# --- join flow --------------------------------------------------------------------------------------


def record_safety_check(
    session: Session,
    patient: Patient,
    actor: User,
    *,
    at_home: bool,
    location: str,
    callback_phone: str,
    private_place: bool,
) -> SafetyCheck:
    if not private_place:
        raise ServiceError(_("Please join from a private place, or tell us by phone if you cannot."))
    if not at_home and not location.strip():
        raise ServiceError(_("Tell us where you are, or tick 'At my home address'."))
    with transaction.atomic():
        check, created = SafetyCheck.objects.update_or_create(
            session=session,
            patient=patient,
            defaults={
                "at_home": at_home,
                "location": "" if at_home else location.strip(),
                "callback_phone": callback_phone.strip(),
                "private_place": private_place,
            },
        )
        audit.record(
            "create" if created else "update",
            actor=actor,
            record=check,
            patient=patient,
            detail={"session": session.pk, "at_home": at_home},
        )
    return check


def has_safety_check(session: Session, patient: Patient) -> bool:
    return SafetyCheck.objects.filter(session=session, patient=patient).exists()


@dataclass(frozen=True)
class Entry:
    participant: Participant
    admitted: bool
    previous_channel: str


def enter(room: Room, user: User, patient: Patient | None, role: str, channel_name: str) -> Entry:
    """A person's connection reaches the room. Clinicians go straight in; others wait to be admitted,
    unless they were admitted and dropped less than ROOM_RECONNECT_SECONDS ago (or are still connected
    elsewhere: that older connection is replaced)."""
    now = timezone.now()
    with transaction.atomic():
        participant, _created = Participant.objects.select_for_update(of=("self",)).get_or_create(
            room=room, user=user, defaults={"patient": patient}
        )
        previous = participant.channel_name
        grace = timedelta(seconds=settings.ROOM_RECONNECT_SECONDS)
        recent = bool(previous) or (
            participant.disconnected_at is not None and now - participant.disconnected_at <= grace
        )
        if role == "clinician":
            participant.state = ParticipantState.ADMITTED
            participant.admitted_at = participant.admitted_at or now
        elif participant.state == ParticipantState.REMOVED or not recent:
            participant.state = ParticipantState.WAITING
        participant.channel_name = channel_name
        participant.save(update_fields=["state", "admitted_at", "channel_name"])
        audit.record(
            "read",
            actor=user,
            record=room.session,
            patient=patient,
            program_id=room.session.program_id,
            detail={"purpose": "room-connect", "as": role, "state": participant.state},
        )
    return Entry(participant, participant.state == ParticipantState.ADMITTED, previous)


def go_in(room: Room, user: User, patient: Patient | None) -> list[dict[str, Any]]:
    """The person is in the call: a join event (unless one is open) and the list of who was in before.
    One at a time per room (the room row is locked), so of two people admitted together exactly one
    sees the other and calls them: no glare."""
    now = timezone.now()
    with transaction.atomic():
        Room.objects.select_for_update(of=("self",)).filter(pk=room.pk).first()
        Participant.objects.filter(room=room, user=user).update(in_room_since=now)
        last = PresenceEvent.objects.filter(session_id=room.session_id, user=user).order_by("-at", "-pk").first()
        if last is None or last.kind == PresenceEvent.Kind.LEAVE:
            PresenceEvent.objects.create(
                session_id=room.session_id, user=user, patient=patient, kind=PresenceEvent.Kind.JOIN, at=now
            )
        others = (
            Participant.objects.filter(room=room, state=ParticipantState.ADMITTED, in_room_since__isnull=False)
            .exclude(channel_name="")
            .exclude(user=user)
            .select_related("user")
            .order_by("in_room_since", "pk")
        )
        return [{"id": p.user_id, "name": p.user.display_name} for p in others]


def disconnect(room: Room, user: User, channel_name: str) -> bool:
    """The connection `channel_name` closed. True if it was the person's current one (then they left)."""
    now = timezone.now()
    with transaction.atomic():
        current = Participant.objects.filter(room=room, user=user, channel_name=channel_name).update(
            channel_name="", disconnected_at=now, in_room_since=None
        )
        if current:
            _close_presence(room, user, now)
    return bool(current)


def _close_presence(room: Room, user: User, now: datetime) -> None:
    last = PresenceEvent.objects.filter(session_id=room.session_id, user=user).order_by("-at", "-pk").first()
    if last is not None and last.kind == PresenceEvent.Kind.JOIN:
        PresenceEvent.objects.create(
            session_id=room.session_id, user=user, patient=last.patient, kind=PresenceEvent.Kind.LEAVE, at=now
        )


def waiting_list(room: Room) -> list[dict[str, Any]]:
    people = (
        Participant.objects.filter(room=room, state=ParticipantState.WAITING)
        .exclude(channel_name="")
        .select_related("user")
        .order_by("pk")
    )
    return [{"id": p.user_id, "name": p.user.display_name} for p in people]


def admit(room: Room, clinician: User, user_ids: list[int] | None) -> list[int]:
    """Admit these waiting people (None: everyone waiting). Returns who was admitted."""
    now = timezone.now()
    with transaction.atomic():
        waiting = Participant.objects.select_for_update(of=("self",)).filter(room=room, state=ParticipantState.WAITING)
        if user_ids is not None:
            waiting = waiting.filter(user_id__in=user_ids)
        chosen = list(waiting.select_related("patient"))
        for participant in chosen:
            participant.state = ParticipantState.ADMITTED
            participant.admitted_at = now
            participant.save(update_fields=["state", "admitted_at"])
            audit.record(
                "update",
                actor=clinician,
                record=participant,
                patient=participant.patient,
                program_id=room.session.program_id,
                detail={"session": room.session_id, "admitted": participant.user_id},
            )
    return [p.user_id for p in chosen]


def remove(room: Room, clinician: User, user_id: int) -> str:
    """Send someone out of the room; they would have to be admitted again. Returns their channel."""
    now = timezone.now()
    with transaction.atomic():
        participant = (
            Participant.objects.select_for_update(of=("self",))
            .filter(room=room, user_id=user_id)
            .select_related("patient")
            .first()
        )
        if participant is None or participant.user_id == clinician.pk:
            raise ServiceError(_("That person is not in this room."))
        channel = participant.channel_name
        participant.state = ParticipantState.REMOVED
        participant.channel_name = ""
        participant.in_room_since = None
        participant.disconnected_at = now
        participant.save(update_fields=["state", "channel_name", "in_room_since", "disconnected_at"])
        _close_presence(room, participant.user, now)
        audit.record(
            "update",
            actor=clinician,
            record=participant,
            patient=participant.patient,
            program_id=room.session.program_id,
            detail={"session": room.session_id, "removed": user_id},
        )
    return channel


def crisis(room: Room, user: User, patient: Patient | None) -> None:
    """The patient pressed the crisis button: the clinicians hear at once (in the room and on any page),
    and the press is on record. The patient's page shows crisis resources by itself."""
    session = room.session
    clinicians = list(session.clinicians.values_list("pk", flat=True))
    with transaction.atomic():
        audit.record(
            "create",
            actor=user,
            record=session,
            patient=patient,
            program_id=session.program_id,
            detail={"event": "crisis-button", "session": session.pk},
            flagged=True,
        )
        name = patient.full_name if patient else user.display_name
        live.notify_users(
            clinicians,
            {
                "kind": "crisis",
                "text": _("%(name)s pressed the crisis button in session %(session)s.")
                % {"name": name, "session": session},
                "session": session.pk,
            },
        )
        _raise_safety_alert(session, patient, name, user)


def _raise_safety_alert(session: Session, patient: Patient | None, name: str, actor: User) -> None:
    """A SafetyAlert that stays on the clinicians' list until acknowledged (and an email nudge)."""
    safety.raise_alert(
        program=session.program,
        source=AlertSource.SESSION,
        summary=_("%(name)s pressed the crisis button during a session.") % {"name": name},
        patient=patient,
        about=str(session),
        link=reverse("rooms:room", kwargs={"session_id": session.pk}),
        notify=tuple(session.clinicians.all()),
        actor=actor,
    )


# --- finishing and attendance ------------------------------------------------------------------------


def finish_session(session: Session, clinician: User | None) -> list[Attendance]:
    """End the session (once: a second call finds it ended): everyone still in leaves, attendance is
    computed, the Janus room goes, and the browsers still in the room are told it has ended.
    `clinician` is None when `manage.py finish_sessions` ends a session nobody ended."""
    now = timezone.now()
    room = room_for(session)
    with transaction.atomic():
        claimed = Session.objects.filter(pk=session.pk, status=SessionStatus.SCHEDULED).update(
            status=SessionStatus.COMPLETED
        )
        if not claimed:
            return list(Attendance.objects.filter(session=session))
        for participant in Participant.objects.select_for_update(of=("self",)).filter(room=room).select_related("user"):
            if participant.channel_name:
                participant.channel_name = ""
                participant.in_room_since = None
                participant.disconnected_at = now
                participant.save(update_fields=["channel_name", "in_room_since", "disconnected_at"])
            _close_presence(room, participant.user, now)
        room.finished_at = now
        room.save(update_fields=["finished_at"])
        rows = compute_attendance(session, finished_at=now, actor=clinician)
        audit.record(
            "update",
            actor=clinician,
            record=session,
            program_id=session.program_id,
            detail={"finished": True, "by": "clinician" if clinician else "finish_sessions"},
        )
        transaction.on_commit(lambda: _tell_room(session.pk, {"type": "room.ended"}))
    if room.media == MediaMode.SFU and room.janus_room is not None:
        try:
            janus.destroy_room(room.janus_room, secret=room.janus_secret)
        except janus.JanusError:
            log.warning("could not destroy Janus room %s", room.janus_room, exc_info=True)
    return rows


def room_group(session_id: int) -> str:
    return f"room-{session_id}"


def _tell_room(session_id: int, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(room_group(session_id), event)
    except Exception:
        log.exception("could not tell room %s", session_id)


def finish_overdue_sessions(now: datetime | None = None) -> int:
    """Finish sessions whose room has closed (an hour after the scheduled end) that nobody ended."""
    now = now or timezone.now()
    overdue = Session.objects.filter(status=SessionStatus.SCHEDULED, ends_at__lt=now - timedelta(hours=1))
    finished = 0
    for session in overdue.select_related("program").order_by("ends_at")[:500]:
        finish_session(session, None)
        finished += 1
    return finished


def compute_attendance(session: Session, *, finished_at: datetime, actor: User | None) -> list[Attendance]:
    """Attendance for every patient on the session from presence events. A clinician's correction stays;
    the computed figures beside it are refreshed."""
    events: dict[int, list[tuple[str, datetime]]] = {}
    clinician_joined: datetime | None = None
    clinicians = set(session.clinicians.values_list("pk", flat=True))
    for event in PresenceEvent.objects.filter(session=session):
        if event.patient_id is not None:
            events.setdefault(event.patient_id, []).append((event.kind, event.at))
        elif event.user_id in clinicians and event.kind == PresenceEvent.Kind.JOIN:
            clinician_joined = min(clinician_joined or event.at, event.at)
    window_start, window_end = rules.held_window(session.starts_at, session.ends_at, finished_at, clinician_joined)
    rows = []
    with transaction.atomic():
        for attendee in SessionAttendee.objects.filter(session=session).select_related("patient"):
            result = rules.attendance(
                events.get(attendee.patient_id, []),
                starts_at=window_start,
                ends_at=window_end,
                finished_at=finished_at,
                attended_percent=settings.ATTENDED_PERCENT,
                late_minutes=settings.LATE_MINUTES,
            )
            row = Attendance.objects.filter(session=session, patient=attendee.patient).first()
            if row is None:
                row = Attendance(session=session, patient=attendee.patient)
            row.computed_status = result.status
            row.computed_seconds = result.seconds
            row.first_joined_at = result.first_joined
            row.computed_at = timezone.now()
            if row.corrected_at is None:
                row.status = result.status
                row.seconds_present = result.seconds
            row.save()
            audit.record(
                "update",
                actor=actor,
                record=row,
                patient=attendee.patient,
                detail={"status": result.status, "seconds": result.seconds, "source": "presence"},
            )
            rows.append(row)
    return rows


def correct_attendance(attendance: Attendance, clinician: User, *, status: str, minutes: int, reason: str) -> None:
    if status not in AttendanceStatus.values:
        raise ServiceError(_("Choose a status."))
    if len(reason.strip()) < 5:
        raise ServiceError(_("Give a reason for the correction."))
    scheduled = attendance.session.minutes
    if not 0 <= minutes <= scheduled:
        raise ServiceError(_("Minutes must be between 0 and %(n)s.") % {"n": scheduled})
    with transaction.atomic():
        before = {"status": attendance.status, "seconds": attendance.seconds_present}
        attendance.status = status
        attendance.seconds_present = minutes * 60
        attendance.corrected_by = clinician
        attendance.correction_reason = reason.strip()
        attendance.corrected_at = timezone.now()
        attendance.save(
            update_fields=["status", "seconds_present", "corrected_by", "correction_reason", "corrected_at"]
        )
        audit.record(
            "update",
            actor=clinician,
            record=attendance,
            patient=attendance.patient,
            detail={"before": before, "after": {"status": status, "seconds": minutes * 60}, "reason": reason.strip()},
        )


# --- weekly dose ------------------------------------------------------------------------------------


def required_hours(patient: Patient) -> int:
    enrollment = patient.enrollments.filter(status="active").select_related("track").first()
    if enrollment is not None and enrollment.track.population == Population.ADOLESCENT:
        return settings.IOP_MIN_HOURS_ADOLESCENT
    return settings.IOP_MIN_HOURS_ADULT


def weekly_dose(patient: Patient, now: datetime | None = None) -> rules.WeeklyDose:
    """Hours delivered this week (Monday to Sunday, program time) and still scheduled ahead."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start, week_end = rules.week_bounds(midnight)
    delivered = sum(
        Attendance.objects.filter(patient=patient, session__starts_at__gte=week_start, session__starts_at__lt=week_end)
        .exclude(status=AttendanceStatus.ENTERED_IN_ERROR)
        .values_list("seconds_present", flat=True)
    )
    ahead = Session.objects.filter(
        attendees__patient=patient,
        starts_at__gte=now,
        starts_at__lt=week_end,
        status=SessionStatus.SCHEDULED,
    )
    ahead_seconds = sum(int((s.ends_at - s.starts_at).total_seconds()) for s in ahead)
    return rules.WeeklyDose(delivered, ahead_seconds, float(required_hours(patient)))
