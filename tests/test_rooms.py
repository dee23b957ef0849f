"""Session rooms without a browser: who may enter, the new-session form, the safety check, the room's
WebSocket (waiting room, admission, relay, reconnection, removal, crisis button), attendance and its
correction, the weekly dose, and the pure rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from openiop.accounts import access
from openiop.accounts.services import ServiceError
from openiop.audit.models import AuditEntry
from openiop.intake.models import FamilyAccess
from openiop.rooms import rules, services
from openiop.rooms.models import Attendance, Participant, PresenceEvent, SafetyCheck
from openiop.safety.models import SafetyAlert
from openiop.scheduling.models import Session, SessionAttendee, SessionKind
from tests.conftest import World, sign_in

# --- people and sessions used here and by the access matrix -------------------------------------------


def room_session(world: World) -> Session:
    """Pat's family session with Carla, Fay invited (Pat's grant covers family sessions)."""
    existing = Session.objects.filter(title="Pat family session").first()
    if existing:
        return existing
    now = timezone.now()
    session = services.create_session(
        world.carla,
        kind=SessionKind.FAMILY,
        title="Pat family session",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=55),
        patients=[world.pat],
        family_guests=[world.fay],
    )
    return session


def someone_elses_session(world: World, *, elsewhere: bool = False) -> Session:
    title = "Olga individual" if elsewhere else "Quinn group"
    existing = Session.objects.filter(title=title).first()
    if existing:
        return existing
    now = timezone.now()
    clinician, patient, kind = (
        (world.oscar, world.olga, SessionKind.INDIVIDUAL) if elsewhere else (world.cole, world.quinn, SessionKind.GROUP)
    )
    return services.create_session(
        clinician,
        kind=kind,
        title=title,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=55),
        patients=[patient],
    )


def attendance_row(world: World, session: Session | None = None) -> Attendance:
    session = session or room_session(world)
    attendee = session.attendees.select_related("patient").first()
    assert attendee is not None
    row, _created = Attendance.objects.get_or_create(
        session=session,
        patient=attendee.patient,
        defaults={"status": "partial", "computed_status": "partial", "computed_at": timezone.now()},
    )
    return row


# --- who may enter --------------------------------------------------------------------------------------


def test_room_pass_only_for_the_sessions_people(world: World) -> None:
    session = room_session(world)
    assert access.room_pass_for(world.carla, session.pk).role == "clinician"  # type: ignore[union-attr]
    pat_pass = access.room_pass_for(world.pat_user, session.pk)
    assert pat_pass is not None and pat_pass.role == "patient" and pat_pass.patient == world.pat
    fay_pass = access.room_pass_for(world.fay, session.pk)
    assert fay_pass is not None and fay_pass.role == "family" and fay_pass.patient == world.pat
    for outsider in (world.cole, world.quinn_user, world.dora, world.ivan, world.oscar, world.olga_user, world.otto):
        assert access.room_pass_for(outsider, session.pk) is None, outsider


def test_family_member_needs_an_active_grant_that_covers_family_sessions(world: World) -> None:
    session = room_session(world)
    grant = FamilyAccess.objects.get(family_member=world.fay, patient=world.pat)
    FamilyAccess.objects.filter(pk=grant.pk).update(may_see_family_sessions=False)
    assert access.room_pass_for(world.fay, session.pk) is None
    FamilyAccess.objects.filter(pk=grant.pk).update(may_see_family_sessions=True, status="revoked")
    assert access.room_pass_for(world.fay, session.pk) is None
    assert not access.sessions_for(world.fay).exists()


def test_cancelled_session_has_no_room(world: World) -> None:
    session = room_session(world)
    Session.objects.filter(pk=session.pk).update(status="cancelled")
    assert access.room_pass_for(world.carla, session.pk) is None


def test_room_page_404_for_outsider_is_the_same_as_for_nothing(world: World, client_for) -> None:
    session = room_session(world)
    quinn = client_for(world.quinn_user)
    mine = quinn.get(reverse("rooms:room", kwargs={"session_id": session.pk}))
    missing = quinn.get(reverse("rooms:room", kwargs={"session_id": 987654321}))
    assert mine.status_code == missing.status_code == 404
    assert _without_csrf(mine.content) == _without_csrf(missing.content)
    assert not AuditEntry.objects.filter(actor=world.quinn_user, record_type="scheduling.session").exists()


def _without_csrf(body: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)


def test_entering_the_room_page_is_audited(world: World, client_for) -> None:
    session = room_session(world)
    response = client_for(world.fay).get(reverse("rooms:room", kwargs={"session_id": session.pk}))
    assert response.status_code == 200
    assert b"room-config" in response.content
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.actor == world.fay and entry.patient == world.pat
    assert entry.detail == {"purpose": "room", "as": "family"}


def test_room_is_not_open_long_before_the_start(world: World, client_for) -> None:
    now = timezone.now()
    session = services.create_session(
        world.carla,
        kind=SessionKind.INDIVIDUAL,
        starts_at=now + timedelta(hours=3),
        ends_at=now + timedelta(hours=4),
        patients=[world.pat],
    )
    response = client_for(world.pat_user).get(reverse("rooms:room", kwargs={"session_id": session.pk}))
    assert response.status_code == 200
    assert b"The room opens at" in response.content and b"room-config" not in response.content


# --- new session ---------------------------------------------------------------------------------------


def test_clinician_starts_an_individual_session_from_the_form(world: World, client_for) -> None:
    client = client_for(world.carla)
    assert client.get(reverse("rooms:new_session")).status_code == 200
    start = timezone.localtime() + timedelta(minutes=5)
    response = client.post(
        reverse("rooms:new_session"),
        {
            "kind": "individual",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "minutes": "50",
            "patients": [world.pat.pk],
        },
    )
    session = Session.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "rooms:room", kwargs={"session_id": session.pk}
    )
    assert list(session.clinicians.all()) == [world.carla]
    assert list(session.attendees.values_list("patient", flat=True)) == [world.pat.pk]
    assert session.minutes == 50 and session.room.media == "mesh"
    entry = AuditEntry.objects.get(action="create", record_type="scheduling.session")
    assert entry.actor == world.carla and entry.patient == world.pat
    # Pat sees it in the sessions list.
    listing = client_for(world.pat_user).get(reverse("rooms:sessions"))
    assert reverse("rooms:room", kwargs={"session_id": session.pk}).encode() in listing.content


def test_new_session_refuses_patients_outside_the_clinicians_care(world: World, client_for) -> None:
    client = client_for(world.carla)
    start = (timezone.localtime() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("rooms:new_session"),
        {"kind": "individual", "starts_at": start, "minutes": "50", "patients": [world.quinn.pk]},
    )
    assert response.status_code == 400
    bad = client.post(reverse("rooms:new_session"), {"kind": "individual", "starts_at": "tomorrow", "minutes": "x"})
    assert bad.status_code == 400
    assert not Session.objects.exists()
    with pytest.raises(ServiceError):
        services.create_session(
            world.carla,
            kind=SessionKind.INDIVIDUAL,
            starts_at=timezone.now(),
            ends_at=timezone.now() + timedelta(hours=1),
            patients=[world.pat],
            family_guests=[world.fay],
        )


def test_family_guest_without_consent_is_refused(world: World) -> None:
    FamilyAccess.objects.filter(family_member=world.fay).update(may_see_family_sessions=False)
    with pytest.raises(ServiceError, match="no consent"):
        room_session(world)
    assert not Session.objects.exists()


def test_large_groups_use_janus_when_it_is_configured(world: World, settings) -> None:
    settings.JANUS_URL = "http://127.0.0.1:9/janus"
    settings.ROOM_MESH_MAX = 2
    session = someone_elses_session(world)  # Cole and Quinn: 2 people
    assert session.room.media == "mesh"
    SessionAttendee.objects.create(
        session=Session.objects.create(
            program=world.harborview,
            kind="group",
            starts_at=timezone.now(),
            ends_at=timezone.now() + timedelta(hours=1),
        ),
        patient=world.quinn,
    )
    bigger = Session.objects.exclude(pk=session.pk).get()
    bigger.clinicians.add(world.cole, world.carla)
    room = services.room_for(bigger)
    assert room.media == "sfu" and room.janus_room and len(room.janus_secret) > 20 and room.janus_pin


# --- safety check ------------------------------------------------------------------------------------


def test_safety_check_is_recorded_and_audited(world: World, client_for) -> None:
    session = room_session(world)
    url = reverse("rooms:safety_check", kwargs={"session_id": session.pk})
    client = client_for(world.pat_user)
    bad = client.post(url, {"callback_phone": "call me", "location": ""})
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert set(errors) == {"callback_phone", "private_place", "location"}
    assert not SafetyCheck.objects.exists()
    good = client.post(
        url, {"location": "12 Elm St, Quincy MA", "callback_phone": "617 555 0100", "private_place": "on"}
    )
    assert good.status_code == 200 and good.json() == {"ok": True}
    check = SafetyCheck.objects.get()
    assert (check.patient, check.location, check.at_home) == (world.pat, "12 Elm St, Quincy MA", False)
    assert AuditEntry.objects.filter(action="create", record_type="rooms.safetycheck", patient=world.pat).exists()
    # Sent again (moved to another room): updated, not stored twice.
    client.post(url, {"at_home": "on", "callback_phone": "617 555 0100", "private_place": "on"})
    assert SafetyCheck.objects.get().at_home


# --- the WebSocket ---------------------------------------------------------------------------------------


@pytest.fixture
def layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def _socket(client: Client, session_id: int) -> WebsocketCommunicator:
    from openiop.asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if "sessionid" in client.cookies:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, f"/ws/rooms/{session_id}/", headers=headers)


async def _connect(client: Client, session_id: int) -> WebsocketCommunicator:
    communicator = _socket(client, session_id)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _until(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    for _ in range(20):
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind}")


def _safety(world: World, session: Session) -> None:
    services.record_safety_check(
        session, world.pat, world.pat_user, at_home=True, location="", callback_phone="6175550100", private_place=True
    )


@pytest.mark.django_db(transaction=True)
def test_outsider_socket_is_refused_with_4404(world: World, layer) -> None:
    session = room_session(world)
    outsiders = [sign_in(Client(), person) for person in (world.quinn_user, world.cole, world.dora, world.otto)]

    async def run() -> None:
        for client in outsiders:
            communicator = await _connect(client, session.pk)
            assert (await communicator.receive_output(timeout=3))["code"] == 4404
        anonymous = _socket(Client(), session.pk)
        await anonymous.connect()
        assert (await anonymous.receive_output(timeout=3))["code"] == 4401

    async_to_sync(run)()
    assert not Participant.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_staff_without_two_factor_and_patient_without_safety_check_are_refused(world: World, layer) -> None:
    session = room_session(world)
    carla = Client()
    carla.force_login(world.carla, backend="django.contrib.auth.backends.ModelBackend")  # no TOTP this session
    pat = sign_in(Client(), world.pat_user)

    async def run() -> None:
        communicator = await _connect(carla, session.pk)
        assert (await communicator.receive_output(timeout=3))["code"] == 4403
        communicator = await _connect(pat, session.pk)
        assert (await communicator.receive_output(timeout=3))["code"] == 4412

    async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_waiting_room_admission_relay_chat_and_reconnection(world: World, layer, settings) -> None:
    session = room_session(world)
    _safety(world, session)
    carla_client, pat_client = sign_in(Client(), world.carla), sign_in(Client(), world.pat_user)

    async def run() -> None:
        carla = await _connect(carla_client, session.pk)
        admitted = await _until(carla, "admitted")
        assert admitted["peers"] == [] and admitted["media"] == "mesh" and admitted["ice_servers"] == []
        pat = await _connect(pat_client, session.pk)
        assert (await pat.receive_json_from(timeout=3))["type"] == "waiting"
        waiting = await _until(carla, "waiting_list")
        while not waiting["people"]:  # the first list is from Carla's own arrival
            waiting = await _until(carla, "waiting_list")
        assert waiting["people"] == [{"id": world.pat_user.pk, "name": world.pat_user.display_name}]
        # A patient cannot admit anyone (or themselves); the clinician can.
        await pat.send_json_to({"type": "admit_all"})
        await carla.send_json_to({"type": "admit", "id": world.pat_user.pk})
        in_room = await _until(pat, "admitted")
        assert in_room["peers"] == [{"id": world.carla.pk, "name": world.carla.display_name}]
        assert (await _until(carla, "peer_joined"))["id"] == world.pat_user.pk
        # Signals go to the addressee only, stamped with the sender.
        await pat.send_json_to({"type": "signal", "to": world.carla.pk, "data": {"sdp": {"type": "offer", "sdp": "x"}}})
        relayed = await _until(carla, "signal")
        assert relayed == {"type": "signal", "from": world.pat_user.pk, "data": {"sdp": {"type": "offer", "sdp": "x"}}}
        await carla.send_json_to({"type": "chat", "text": "  welcome  "})
        assert (await _until(pat, "chat"))["text"] == "welcome"
        await carla.send_json_to({"type": "mute_all"})
        assert (await _until(pat, "mute_all"))["type"] == "mute_all"
        # Pat's connection drops and comes back: straight in, no admission.
        await pat.disconnect()
        assert (await _until(carla, "peer_left"))["id"] == world.pat_user.pk
        pat = await _connect(pat_client, session.pk)
        assert (await pat.receive_json_from(timeout=3))["type"] == "admitted"
        # A second window replaces the first.
        pat2 = await _connect(pat_client, session.pk)
        assert (await _until(pat2, "admitted"))["type"] == "admitted"
        assert (await _until(pat, "superseded"))["type"] == "superseded"
        assert (await pat.receive_output(timeout=3))["type"] == "websocket.close"
        await pat2.disconnect()
        await carla.disconnect()

    async_to_sync(run)()
    kinds = list(PresenceEvent.objects.filter(session=session, user=world.pat_user).values_list("kind", flat=True))
    assert kinds == ["join", "leave", "join", "leave"]
    assert AuditEntry.objects.filter(action="update", record_type="rooms.participant", actor=world.carla).count() == 1

    # After the reconnection window, the person waits to be admitted again.
    settings.ROOM_RECONNECT_SECONDS = 0
    Participant.objects.filter(user=world.pat_user).update(disconnected_at=timezone.now() - timedelta(seconds=5))

    async def later() -> None:
        pat = await _connect(pat_client, session.pk)
        assert (await pat.receive_json_from(timeout=3))["type"] == "waiting"
        await pat.disconnect()

    async_to_sync(later)()


@pytest.mark.django_db(transaction=True)
def test_clinician_removes_someone(world: World, layer) -> None:
    session = room_session(world)
    carla_client, fay_client = sign_in(Client(), world.carla), sign_in(Client(), world.fay)

    async def run() -> None:
        carla = await _connect(carla_client, session.pk)
        fay = await _connect(fay_client, session.pk)
        assert (await fay.receive_json_from(timeout=3))["type"] == "waiting"
        await carla.send_json_to({"type": "admit_all"})
        await _until(fay, "admitted")
        await carla.send_json_to({"type": "remove", "id": world.fay.pk})
        assert (await _until(fay, "removed"))["type"] == "removed"
        assert (await fay.receive_output(timeout=3))["code"] == 4000
        # Back again: waiting, not in.
        fay = await _connect(fay_client, session.pk)
        assert (await fay.receive_json_from(timeout=3))["type"] == "waiting"
        await fay.disconnect()
        await carla.disconnect()

    async_to_sync(run)()
    assert AuditEntry.objects.filter(detail__removed=world.fay.pk, actor=world.carla).exists()


@pytest.mark.django_db(transaction=True)
def test_crisis_button_alerts_the_clinician_live_and_on_record(world: World, layer) -> None:
    session = room_session(world)
    _safety(world, session)
    carla_client, pat_client = sign_in(Client(), world.carla), sign_in(Client(), world.pat_user)

    async def run() -> None:
        from openiop.asgi import application

        notices = WebsocketCommunicator(
            application,
            "/ws/notifications/",
            headers=[
                (b"cookie", f"sessionid={carla_client.cookies['sessionid'].value}".encode()),
                (b"origin", b"http://127.0.0.1"),
                (b"host", b"127.0.0.1"),
            ],
        )
        assert (await notices.connect())[0]
        carla = await _connect(carla_client, session.pk)
        pat = await _connect(pat_client, session.pk)
        await carla.send_json_to({"type": "admit_all"})
        await _until(pat, "admitted")
        await pat.send_json_to({"type": "crisis"})
        assert (await _until(carla, "crisis"))["name"] == world.pat_user.display_name
        notice = await notices.receive_json_from(timeout=3)
        assert notice["kind"] == "crisis" and "crisis button" in notice["text"]
        # Only a patient's press counts.
        await carla.send_json_to({"type": "crisis"})
        await notices.disconnect()
        await pat.disconnect()
        await carla.disconnect()

    async_to_sync(run)()
    entries = AuditEntry.objects.filter(detail__event="crisis-button")
    assert entries.count() == 1 and entries.get().flagged and entries.get().patient == world.pat
    alert = SafetyAlert.objects.get()
    assert (alert.patient, alert.source, alert.status) == (world.pat, "session", "open")
    assert world.carla in alert.notified.all()


# --- attendance ------------------------------------------------------------------------------------------


def _presence(session: Session, world: World, joined: datetime, left: datetime) -> None:
    PresenceEvent.objects.create(session=session, user=world.pat_user, patient=world.pat, kind="join", at=joined)
    PresenceEvent.objects.create(session=session, user=world.pat_user, patient=world.pat, kind="leave", at=left)


def test_finish_computes_attendance_and_correction_is_audited(world: World, client_for) -> None:
    session = room_session(world)
    held = timezone.now() - timedelta(hours=2)  # held earlier today, ended on time; ended in the app only now
    Session.objects.filter(pk=session.pk).update(starts_at=held, ends_at=held + timedelta(hours=1))
    session.refresh_from_db()
    _presence(session, world, session.starts_at + timedelta(minutes=1), session.starts_at + timedelta(minutes=50))
    client = client_for(world.carla)
    response = client.post(reverse("rooms:finish", kwargs={"session_id": session.pk}))
    assert response.status_code == 302
    row = Attendance.objects.get(session=session)
    assert (row.status, row.minutes) == ("attended", 49)
    session.refresh_from_db()
    assert session.status == "completed"
    page = client.get(reverse("rooms:attendance", kwargs={"session_id": session.pk}))
    assert b"Attended" in page.content

    url = reverse("rooms:correct", kwargs={"attendance_id": row.pk})
    assert client.post(url, {"status": "partial", "minutes": "30"}).status_code == 400  # no reason
    row.refresh_from_db()
    assert row.status == "attended"
    assert client.post(url, {"status": "partial", "minutes": "30", "reason": "left early for work"}).status_code == 302
    row.refresh_from_db()
    assert (row.status, row.minutes, row.computed_status, row.corrected_by) == ("partial", 30, "attended", world.carla)
    entry = AuditEntry.objects.filter(record_type="rooms.attendance", action="update").order_by("-seq").first()
    assert entry is not None and entry.detail["reason"] == "left early for work"
    assert entry.detail["before"] == {"status": "attended", "seconds": 49 * 60}
    # Patients and family cannot correct.
    assert (
        client_for(world.pat_user).post(url, {"status": "attended", "minutes": "60", "reason": "x" * 10}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("joined", "left", "status"),
    [
        (0, 60, "attended"),
        (5, 60, "attended"),  # 5 minutes in: within the lateness grace
        (12, 60, "late"),  # 48 of 60 minutes is still 80 %
        (30, 60, "partial"),
        (None, None, "absent"),
    ],
)
def test_attendance_rule(joined: int | None, left: int | None, status: str) -> None:
    start = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    events = (
        []
        if joined is None
        else [("join", start + timedelta(minutes=joined)), ("leave", start + timedelta(minutes=left or 0))]
    )
    result = rules.attendance(
        events, starts_at=start, ends_at=start + timedelta(hours=1), finished_at=start + timedelta(hours=1),
        attended_percent=75, late_minutes=10,
    )  # fmt: skip
    assert result.status == status


def test_presence_before_the_start_and_overlapping_rejoins_count_once() -> None:
    start = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)

    def m(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    events = [("join", m(-10)), ("leave", m(20)), ("join", m(20)), ("join", m(25)), ("leave", m(40)), ("join", m(55))]
    result = rules.attendance(
        events, starts_at=start, ends_at=m(60), finished_at=m(70), attended_percent=75, late_minutes=10
    )
    assert result.seconds == 45 * 60  # 0-40 and 55-60
    assert result.first_joined == start and result.status == "attended"


def test_weekly_dose_alert_for_patient_and_clinician(world: World, client_for) -> None:
    now = timezone.now()
    week_start, _end = rules.week_bounds(timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0))
    start = max(week_start, now - timedelta(hours=2))  # earlier this week
    past = services.create_session(
        world.carla, kind=SessionKind.INDIVIDUAL, starts_at=start, ends_at=start + timedelta(minutes=1),
        patients=[world.pat],
    )  # fmt: skip
    Attendance.objects.create(
        session=past, patient=world.pat, seconds_present=3600, status="attended", computed_status="attended",
        computed_at=now,
    )  # fmt: skip
    dose = services.weekly_dose(world.pat)
    assert dose.delivered_hours == 1.0 and dose.required_hours == 9 and dose.on_course_to_miss
    page = client_for(world.pat_user).get(reverse("rooms:sessions"))
    assert b"1.0 of 9.0 hours this week" in page.content and b"On course to miss" in page.content
    clinician_page = client_for(world.carla).get(reverse("rooms:sessions"))
    assert b"On course to miss this week" in clinician_page.content and b"Pat Example" in clinician_page.content
    # With enough still scheduled this week, no alert.
    assert rules.WeeklyDose(3600, 8 * 3600, 9).on_course_to_miss is False


def test_held_window_follows_an_early_end_or_a_session_held_before_its_time() -> None:
    start = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    end = start + timedelta(hours=1)
    assert rules.held_window(start, end, end + timedelta(minutes=5), start) == (start, end)
    assert rules.held_window(start, end, start + timedelta(minutes=40), start) == (start, start + timedelta(minutes=40))
    early = start - timedelta(hours=2)
    assert rules.held_window(start, end, early + timedelta(minutes=30), early) == (early, early + timedelta(minutes=30))
    # Ended before the start with no clinician in: nothing was held.
    assert rules.held_window(start, end, early, None) == (start, start)


def test_finish_sessions_command_ends_sessions_nobody_ended(world: World) -> None:
    from io import StringIO

    from django.core.management import call_command

    session = room_session(world)
    held = timezone.now() - timedelta(hours=3)
    Session.objects.filter(pk=session.pk).update(starts_at=held, ends_at=held + timedelta(hours=1))
    session.refresh_from_db()
    _presence(session, world, held, held + timedelta(minutes=30))
    out = StringIO()
    call_command("finish_sessions", stdout=out)
    assert "Finished 1 session(s)." in out.getvalue()
    row = Attendance.objects.get(session=session)
    assert (row.status, row.minutes) == ("partial", 30)
    session.refresh_from_db()
    assert session.status == "completed"
    entry = AuditEntry.objects.get(record_type="scheduling.session", action="update", detail__finished=True)
    assert entry.actor is None and entry.detail["by"] == "finish_sessions"
    call_command("finish_sessions", stdout=out)  # nothing left: not finished twice
    assert Attendance.objects.count() == 1 and "Finished 0 session(s)." in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_ending_the_session_tells_everyone_in_the_room(world: World, layer) -> None:
    session = room_session(world)
    carla_client = sign_in(Client(), world.carla)

    async def run() -> None:
        carla = await _connect(carla_client, session.pk)
        await _until(carla, "admitted")
        await database_sync_to_async(services.finish_session)(session, world.carla)
        assert (await _until(carla, "ended"))["type"] == "ended"
        assert (await carla.receive_output(timeout=3))["code"] == 4002

    async_to_sync(run)()
    # A second End session changes nothing.
    assert services.finish_session(session, world.carla) == list(Attendance.objects.filter(session=session))
    assert AuditEntry.objects.filter(detail__finished=True).count() == 1
