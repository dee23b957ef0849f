"""Session rooms: admission → media flowing, and signaling throughput.

    python bench/rooms.py [--mesh-runs 8] [--janus-runs 4] [--messages 5000]

Needs root (the same private network namespace as the browser tests: tests/rooms_harness.py), Chromium and
Janus. Uses its own SQLite database under var/bench/ (rebuilt each run) and demo mode (staff skip two-factor).

1. Join → media flowing: for a 2-person mesh (clinician + patient) and a 5-person Janus room (clinician +
   4 patients), the time from the clinician pressing "Admit everyone" (everyone has passed the device and
   safety checks and waits) until every participant decodes video from every other (getStats
   framesDecoded > 0 on every incoming connection). Median and p95 over the runs. One browser, one context
   per person, 320x240 fake camera.
2. Signaling relay: one patient sends N signal messages to the clinician through the room consumer
   (in-process, in-memory channel layer, and Redis db 5 if reachable); messages per second of wall time and
   per CPU-second of this process (the relay runs on one core: the event loop plus DB threads at connect).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = ROOT / "var" / "bench" / "rooms.sqlite3"
REDIS_URL = "redis://127.0.0.1:6379/5"


def setup_django() -> None:
    BENCH_DB.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{BENCH_DB}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DB}"
    os.environ["OPENIOP_DEMO_MODE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def people(patients: int):  # type: ignore[no-untyped-def]
    from datetime import date

    from openiop.accounts.models import Program, Role, User
    from openiop.intake.models import CareTeamMember, Patient

    program, _ = Program.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    clinician, _ = User.objects.get_or_create(
        username="bench-clinician", defaults={"role": Role.CLINICIAN, "program": program, "first_name": "Cleo"}
    )
    rows = []
    for i in range(patients):
        user, _ = User.objects.get_or_create(
            username=f"bench-patient{i}", defaults={"role": Role.PATIENT, "program": program, "first_name": f"P{i}"}
        )
        patient, _ = Patient.objects.get_or_create(
            program=program,
            record_number=f"B-{i}",
            defaults={"given_name": f"P{i}", "family_name": "Bench", "date_of_birth": date(1990, 1, 1), "user": user},
        )
        CareTeamMember.objects.get_or_create(patient=patient, clinician=clinician)
        rows.append(patient)
    return clinician, rows


def new_session(clinician, patients, kind):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from openiop.rooms import services

    now = timezone.now()
    session = services.create_session(
        clinician, kind=kind, starts_at=now, ends_at=now + timedelta(minutes=30), patients=patients
    )
    for patient in patients:
        services.record_safety_check(
            session, patient, patient.user, at_home=True, location="", callback_phone="6175550100", private_place=True
        )
    return session


def cookie_for(user) -> str:  # type: ignore[no-untyped-def]
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def join_to_media(browser, base: str, clinician, patients, kind: str, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    from django.conf import settings
    from django.urls import reverse

    times = []
    for _ in range(runs):
        session = new_session(clinician, patients, kind)
        url = base + reverse("rooms:room", kwargs={"session_id": session.pk})
        pages = []
        for user in [clinician, *[p.user for p in patients]]:
            context = browser.new_context()
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie_for(user), "url": base}])
            page = context.new_page()
            page.goto(url)
            page.click("#device-ok")
            pages.append(page)
        for patient in patients:
            pages[0].wait_for_selector(f'#waiting-list li[data-id="{patient.user.pk}"]', timeout=30000)
        start = time.perf_counter()
        pages[0].click("#btn-admit-all")
        expected = len(pages) - 1
        pending = list(pages)
        deadline = start + 90
        while pending and time.perf_counter() < deadline:
            for page in list(pending):
                stats = page.evaluate("window.openiopRoom.stats()")
                if sum(1 for s in stats if s["state"] == "connected" and s["framesDecoded"] > 0) >= expected:
                    pending.remove(page)
            time.sleep(0.05)
        if pending:
            raise SystemExit("media did not flow within 90 s")
        times.append(time.perf_counter() - start)
        for page in pages:
            page.context.close()
    return times


def browser_figures(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    from tests.rooms_harness import CHROMIUM_ARGS, Daphne, Janus, Namespace, chromium_wrapper

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from django.conf import settings

    ns = Namespace()
    janus = Janus(ns)
    try:
        janus.start()
        for key, value in janus.env.items():
            os.environ[key] = value
        settings.JANUS_URL = janus.env["OPENIOP_JANUS_URL"]
        settings.ROOM_MESH_MAX = 4
        server = Daphne(ns, {"DATABASE_URL": f"sqlite:///{BENCH_DB}", **janus.env, "OPENIOP_ROOM_MESH_MAX": "4"})
        clinician, patients = people(4)
        wrapper = chromium_wrapper(ns, BENCH_DB.parent)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=wrapper, args=CHROMIUM_ARGS)
            mesh = join_to_media(browser, server.url, clinician, patients[:1], "individual", args.mesh_runs)
            sfu = join_to_media(browser, server.url, clinician, patients, "group", args.janus_runs)
            browser.close()
        server.stop()
    finally:
        janus.cleanup()
        ns.close()
    for label, values in (("2-person mesh", mesh), ("5-person Janus room", sfu)):
        print(
            f"admit → media flowing, {label}: median {statistics.median(values):.2f} s, "
            f"p95 {percentile(values, 0.95):.2f} s, min {min(values):.2f} s, max {max(values):.2f} s "
            f"({len(values)} runs)"
        )


async def relay(messages: int) -> tuple[float, float]:
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from openiop.asgi import application

    clinician, patients = await database_sync_to_async(people)(1)
    session = await database_sync_to_async(new_session)(clinician, patients, "individual")
    cookies = [await database_sync_to_async(cookie_for)(u) for u in (clinician, patients[0].user)]

    def socket_for(cookie: str) -> WebsocketCommunicator:
        return WebsocketCommunicator(
            application,
            f"/ws/rooms/{session.pk}/",
            headers=[
                (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
                (b"origin", b"http://127.0.0.1"),
                (b"host", b"127.0.0.1"),
            ],
        )

    carla, pat = socket_for(cookies[0]), socket_for(cookies[1])
    await carla.connect()
    await pat.connect()
    await carla.send_json_to({"type": "admit_all"})
    while (await pat.receive_json_from(timeout=10))["type"] != "admitted":
        pass
    while not await carla.receive_nothing(timeout=0.5):  # drain Carla's queue (a timeout would end her app)
        await carla.receive_json_from()
    payload = {"candidate": {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0"}}
    wall, cpu = time.perf_counter(), time.process_time()

    # At most WINDOW messages in flight: the channel layer's per-channel capacity (100) drops beyond it.
    window = 50
    received = 0
    sent = 0

    room_to_send = asyncio.Event()

    async def sender() -> None:
        nonlocal sent
        while sent < messages:
            if sent - received < window:
                await pat.send_json_to({"type": "signal", "to": clinician.pk, "data": payload})
                sent += 1
            else:
                room_to_send.clear()
                await room_to_send.wait()

    send_task = asyncio.create_task(sender())
    while received < messages:
        message = await carla.receive_json_from(timeout=10)
        if message["type"] == "signal":
            received += 1
            room_to_send.set()
    await send_task
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await carla.disconnect()
    await pat.disconnect()
    return messages / wall, messages / cpu


def relay_figures(args: argparse.Namespace) -> None:
    from channels.layers import channel_layers
    from django.conf import settings

    layers = {"in-memory": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            layers["redis db 5"] = {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [REDIS_URL]},
            }
    except OSError:
        print("Redis not reachable at 127.0.0.1:6379: relay measured in memory only")
    for label, config in layers.items():
        settings.CHANNEL_LAYERS = {"default": config}
        channel_layers.backends.clear()
        per_wall, per_cpu = asyncio.run(relay(args.messages))
        print(
            f"signaling relay ({label}): {per_wall:,.0f} messages/s wall, {per_cpu:,.0f} messages per CPU-second "
            f"({args.messages} messages, sender, relay and receiver in one process)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mesh-runs", type=int, default=8)
    parser.add_argument("--janus-runs", type=int, default=4)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--skip-browser", action="store_true", help="only the signaling relay")
    args = parser.parse_args()
    setup_django()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    relay_figures(args)
    if not args.skip_browser:
        browser_figures(args)


if __name__ == "__main__":
    main()
