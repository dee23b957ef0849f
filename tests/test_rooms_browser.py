"""Session rooms in real headless Chromium, media over loopback inside a private network namespace
(tests/rooms_harness.py): an individual call, a 3-person mesh, a 5-person group through Janus, audio-only,
leave and rejoin, attendance from real presence, an outsider refused, signaling across two server
processes through Redis. One browser, one context per person, 320x240 video."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect, sync_playwright

from openiop.accounts.models import Role, User
from openiop.audit.models import AuditEntry
from openiop.intake.models import Patient
from openiop.rooms import services
from openiop.rooms.models import Attendance, MediaMode, PresenceEvent
from openiop.scheduling.models import GroupMembership, Session, SessionKind
from tests.conftest import World, enroll, make_patient, make_user, sign_in
from tests.rooms_harness import (
    CHROMIUM_ARGS,
    Daphne,
    Janus,
    Namespace,
    chromium_wrapper,
    database_url_from,
    forward_services,
)

pytestmark = pytest.mark.browser

REDIS_SCALE_OUT_URL = os.environ.get("OPENIOP_TEST_ROOMS_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture(scope="module")
def ns() -> Iterator[Namespace]:
    namespace = Namespace()
    yield namespace
    namespace.close()


@pytest.fixture(scope="module")
def janus_server(ns: Namespace) -> Iterator[Janus]:
    server = Janus(ns)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def database_url(ns: Namespace, django_db_setup: None) -> str:
    url = database_url_from(connection.settings_dict)
    forward_services(ns, url, os.environ.get("REDIS_URL"))
    return url


@pytest.fixture  # one per test: stopped before the test database is flushed, so it never holds a lock then
def server(ns: Namespace, janus_server: Janus, database_url: str) -> Iterator[Daphne]:
    daphne = Daphne(ns, {"DATABASE_URL": database_url, **janus_server.env, "OPENIOP_ROOM_MESH_MAX": "4"})
    yield daphne
    daphne.stop()


@pytest.fixture(scope="module")
def browser(ns: Namespace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    wrapper = chromium_wrapper(ns, tmp_path_factory.mktemp("chromium"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=wrapper, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# --- helpers ----------------------------------------------------------------------------------------


def new_session(clinician: User, kind: str, patients: list[Patient], guests: list[User] | None = None) -> Session:
    now = timezone.now()
    return services.create_session(
        clinician,
        kind=kind,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(minutes=29),
        patients=patients,
        family_guests=guests or [],
    )


def enter(browser: Browser, base: str, user: User, session: Session, *, audio_only: bool = False) -> Page:
    """A person's own browser context, signed in, through the device check and (patients) the safety check."""
    context = browser.new_context(viewport={"width": 800, "height": 700})
    cookie = sign_in(Client(), user).cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
    page = context.new_page()
    if os.environ.get("ROOMS_DEBUG"):
        page.on("console", lambda m: print(user.username, m.type, m.text))
    page.goto(base + reverse("rooms:room", kwargs={"session_id": session.pk}))
    if audio_only:
        page.check("#audio-only")
    expect(page.locator("#preview")).to_be_attached()
    page.click("#device-ok")
    if user.role == Role.PATIENT:
        expect(page.locator("#step-safety")).to_be_visible()
        page.check("#id_at_home")
        page.fill("#id_callback_phone", "617-555-0100")
        page.check("#id_private_place")
        page.click("#safety-form button[type=submit]")
    return page


def admit_when_waiting(clinician_page: Page, people: list[User]) -> None:
    for person in people:
        expect(clinician_page.locator(f'#waiting-list li[data-id="{person.pk}"]')).to_be_visible(timeout=20000)
    clinician_page.click("#btn-admit-all")


def wait_for_media(page: Page, peers: int, *, video: bool = True, timeout: float = 45.0) -> list[dict[str, Any]]:
    """Poll getStats until `peers` incoming connections are connected and decoding (video) or hearing (audio)."""
    deadline = time.monotonic() + timeout
    stats: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        stats = page.evaluate("window.openiopRoom.stats()")
        good = [
            s
            for s in stats
            if s["state"] == "connected" and (s["framesDecoded"] > 0 if video else s["audioSamples"] > 0)
        ]
        if len(good) >= peers:
            return stats
        page.wait_for_timeout(300)
    raise AssertionError(f"media did not flow to {peers} peers: {stats}")


def close(*pages: Page) -> None:
    for page in pages:
        page.context.close()


def redis_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


# --- the tests --------------------------------------------------------------------------------------


def test_individual_session_both_decode_video_and_attendance_comes_from_presence(
    transactional_db, world: World, server: Daphne, browser: Browser
) -> None:
    session = new_session(world.carla, SessionKind.INDIVIDUAL, [world.pat])
    assert session.room.media == MediaMode.MESH
    carla = enter(browser, server.url, world.carla, session)
    expect(carla.locator("#step-room")).to_be_visible(timeout=15000)  # the clinician goes straight in
    pat = enter(browser, server.url, world.pat_user, session)
    expect(pat.locator("#waiting-text")).to_contain_text("clinician will let you in", timeout=15000)
    admit_when_waiting(carla, [world.pat_user])
    admitted_at = time.time()

    for page in (carla, pat):
        stats = wait_for_media(page, 1)
        assert stats[0]["framesDecoded"] > 0 and stats[0]["audioSamples"] > 0
        assert stats[0]["pair"] in ("127.0.0.1", "10.213.0.1", "10.213.0.2"), stats
    assert pat.evaluate("document.querySelector('#tiles video:not(#local-video)').videoWidth") > 0

    # The safety check and the entry are on record.
    check = session.safety_checks.get()
    assert check.patient == world.pat and check.at_home and check.private_place
    assert AuditEntry.objects.filter(actor=world.pat_user, detail__purpose="room-connect", patient=world.pat).exists()

    pat.wait_for_timeout(3000)
    pat.click("#btn-leave")
    left_at = time.time()
    expect(pat.locator("#ended-text")).to_contain_text("You left")
    expect(carla.locator(f"#tile-{world.pat_user.pk}")).to_have_count(0, timeout=10000)

    carla.click("#waiting-panel button.danger")  # End session
    expect(carla.get_by_role("heading", name="Attendance")).to_be_visible()
    row = Attendance.objects.get(session=session, patient=world.pat)
    events = list(PresenceEvent.objects.filter(session=session, user=world.pat_user).values_list("kind", flat=True))
    assert events == ["join", "leave"]
    # Minutes from presence: in the room from admission to leaving (a few seconds), so partial for 30 minutes.
    assert 2 <= row.seconds_present <= (left_at - admitted_at) + 3, row.seconds_present
    assert row.status == "partial" and row.computed_status == "partial"
    close(carla, pat)


def test_three_person_family_mesh(transactional_db, world: World, server: Daphne, browser: Browser) -> None:
    session = new_session(world.carla, SessionKind.FAMILY, [world.pat], [world.fay])
    carla = enter(browser, server.url, world.carla, session)
    pat = enter(browser, server.url, world.pat_user, session)
    fay = enter(browser, server.url, world.fay, session)
    admit_when_waiting(carla, [world.pat_user, world.fay])
    for page in (carla, pat, fay):
        wait_for_media(page, 2)
    # Chat reaches everyone admitted; mute-all mutes the others' microphones.
    fay.fill("#chat-text", "hello from Fay")
    fay.press("#chat-text", "Enter")
    expect(pat.locator("#chat-log")).to_contain_text("hello from Fay")
    # Only the clinician can keep the chat, and it goes into the session's draft note.
    assert pat.locator("#chat-save-form").count() == 0 and fay.locator("#chat-save-form").count() == 0
    expect(carla.locator("#chat-log")).to_contain_text("hello from Fay")
    carla.click("#chat-save-form button")
    expect(carla.locator("#chat-save-result")).to_contain_text("Chat saved")
    from openiop.treatment.models import Note

    assert "hello from Fay" in Note.objects.get(session=session).data
    carla.click("#btn-mute-all")
    expect(pat.locator("#btn-mute")).to_have_attribute("aria-pressed", "true")
    expect(fay.locator("#btn-mute")).to_have_attribute("aria-pressed", "true")
    assert carla.locator("#btn-mute").get_attribute("aria-pressed") == "false"
    close(carla, pat, fay)


def test_audio_only_participant(transactional_db, world: World, server: Daphne, browser: Browser) -> None:
    session = new_session(world.carla, SessionKind.INDIVIDUAL, [world.pat])
    carla = enter(browser, server.url, world.carla, session)
    pat = enter(browser, server.url, world.pat_user, session, audio_only=True)
    admit_when_waiting(carla, [world.pat_user])
    heard = wait_for_media(carla, 1, video=False)
    assert heard[0]["audioSamples"] > 0 and heard[0]["framesDecoded"] == 0  # Pat sends no video
    mine = wait_for_media(pat, 1, video=False)
    assert mine[0]["videoSent"] == 0
    close(carla, pat)


def test_leave_and_rejoin_without_readmission(transactional_db, world: World, server: Daphne, browser: Browser) -> None:
    session = new_session(world.carla, SessionKind.INDIVIDUAL, [world.pat])
    carla = enter(browser, server.url, world.carla, session)
    pat = enter(browser, server.url, world.pat_user, session)
    admit_when_waiting(carla, [world.pat_user])
    wait_for_media(pat, 1)
    pat.click("#btn-leave")
    expect(carla.locator(f"#tile-{world.pat_user.pk}")).to_have_count(0, timeout=10000)

    pat.click("#btn-rejoin")  # within two minutes: straight back in, no admission
    pat.click("#device-ok")  # the safety check is already recorded for this session
    expect(pat.locator("#step-room")).to_be_visible(timeout=15000)
    wait_for_media(pat, 1)
    wait_for_media(carla, 1)
    kinds = list(PresenceEvent.objects.filter(session=session, user=world.pat_user).values_list("kind", flat=True))
    assert kinds == ["join", "leave", "join"]

    # The connection drops (not a Leave): the page reconnects by itself and calls again, no admission.
    pat.evaluate(f"window.droppedCall = window.openiopRoom.pcs.get({world.carla.pk}); window.openiopRoom.ws.close()")
    pat.wait_for_function(f"window.openiopRoom.pcs.get({world.carla.pk}) !== window.droppedCall", timeout=20000)
    wait_for_media(pat, 1)
    kinds = list(PresenceEvent.objects.filter(session=session, user=world.pat_user).values_list("kind", flat=True))
    assert kinds == ["join", "leave", "join", "leave", "join"]
    assert not carla.locator("#waiting-list li[data-id]").count()
    close(carla, pat)


def test_outsider_gets_404_and_the_socket_is_refused(
    transactional_db, world: World, server: Daphne, browser: Browser
) -> None:
    session = new_session(world.carla, SessionKind.INDIVIDUAL, [world.pat])
    context = browser.new_context()
    cookie = sign_in(Client(), world.quinn_user).cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server.url}])
    page = context.new_page()
    response = page.goto(server.url + reverse("rooms:room", kwargs={"session_id": session.pk}))
    assert response is not None and response.status == 404
    missing = page.goto(server.url + reverse("rooms:room", kwargs={"session_id": 987654321}))
    assert missing is not None and missing.status == 404
    code = page.evaluate(
        """(path) => new Promise((resolve) => {
            const ws = new WebSocket('ws://' + location.host + path);
            ws.onclose = (event) => resolve(event.code);
        })""",
        f"/ws/rooms/{session.pk}/",
    )
    assert code == 4404
    assert not PresenceEvent.objects.filter(session=session).exists()
    context.close()


def _group_of_five(world: World) -> list[Patient]:
    patients = [world.quinn]
    for name in ("sam", "tess", "uma"):
        user = make_user(name, Role.PATIENT, world.harborview)
        patient = make_patient(world.harborview, f"H-{name}", user, name.capitalize())
        enroll(patient, world.track)
        GroupMembership.objects.create(group=world.group, patient=patient, start_date=timezone.localdate())
        patients.append(patient)
    return patients


def test_five_person_group_through_janus(
    transactional_db, world: World, server: Daphne, browser: Browser, janus_server: Janus, settings
) -> None:
    # The room's media is decided where the session is created (here, this process): as the server is set.
    settings.JANUS_URL = janus_server.env["OPENIOP_JANUS_URL"]
    settings.ROOM_MESH_MAX = 4
    patients = _group_of_five(world)
    session = new_session(world.cole, SessionKind.GROUP, patients)
    assert session.room.media == MediaMode.SFU and session.room.janus_room
    cole = enter(browser, server.url, world.cole, session)
    pages = [enter(browser, server.url, p.user, session) for p in patients if p.user is not None]
    admit_when_waiting(cole, [p.user for p in patients if p.user is not None])
    for page in [cole, *pages]:
        stats = wait_for_media(page, 4, timeout=60)
        assert all(s["pair"].startswith("10.213.0.") for s in stats if s["framesDecoded"]), stats

    # Janus restarts: the rooms are gone; the backend recreates the room and the browsers rejoin.
    janus_server.stop()
    janus_server.start()
    for page in [cole, *pages]:
        page.wait_for_function("window.openiopRoom.janusStarts >= 2", timeout=30000)
        wait_for_media(page, 4, timeout=90)  # fresh connections: their frame counts start again at 0
    close(cole, *pages)


def test_signaling_across_two_server_processes_through_redis(
    transactional_db, world: World, ns: Namespace, database_url: str, browser: Browser
) -> None:
    if not redis_reachable(REDIS_SCALE_OUT_URL):
        pytest.fail(f"Redis is not reachable at {REDIS_SCALE_OUT_URL}")
    forward_services(ns, database_url, REDIS_SCALE_OUT_URL)
    env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_SCALE_OUT_URL}
    first, second = Daphne(ns, env), Daphne(ns, env)
    try:
        session = new_session(world.carla, SessionKind.INDIVIDUAL, [world.pat])
        carla = enter(browser, first.url, world.carla, session)
        pat = enter(browser, second.url, world.pat_user, session)
        admit_when_waiting(carla, [world.pat_user])  # admission crosses processes
        wait_for_media(carla, 1)
        wait_for_media(pat, 1)
        close(carla, pat)
    finally:
        first.stop()
        second.stop()
