"""In real headless Chromium, against a real ASGI server (daphne) so WebSockets work:
a patient answers PHQ-9 item 9 "several days" while her clinician's page is open;
the alert shows on the clinician's page within a second; it cannot be closed
without documentation."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import expect

from openiop.measures import services
from openiop.safety.models import SafetyAlert
from tests.conftest import World
from tests.test_browser import browser, sign_in  # noqa: F401  (the shared browser fixture)

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    user, password = settings["USER"], settings["PASSWORD"]
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"


@pytest.fixture
def asgi_server(transactional_db: None, world: World) -> Iterator[str]:
    """daphne serving the test database (committed data: transactional_db)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "OPENIOP_DEMO_MODE": "1",  # staff sign in without two-factor here
        "OPENIOP_OUTBOX_SEND_ON_COMMIT": "0",
    }
    env.pop("REDIS_URL", None)  # one process: the in-memory channel layer
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "openiop.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("daphne did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_item9_alert_shows_live_on_the_clinicians_page(asgi_server: str, world: World, browser) -> None:  # noqa: F811
    services.builtin_questionnaire("phq9")
    clinician = browser.new_context().new_page()
    sign_in(clinician, asgi_server, "carla")
    clinician.goto(asgi_server + reverse("caseload"))
    expect(clinician.get_by_role("heading", level=1)).to_be_visible()
    clinician.wait_for_timeout(500)  # the page's WebSocket connects

    patient = browser.new_context().new_page()
    sign_in(patient, asgi_server, "pat")
    patient.goto(asgi_server + reverse("measures:fill", kwargs={"slug": "phq9"}))
    for number in range(1, 10):
        patient.check(f"input[name=q{number}][value='{1 if number == 9 else 0}']")  # item 9: several days
    started = time.monotonic()
    patient.click("form.questionnaire button[type=submit]")

    notice = clinician.locator("#live-notices .notice")
    expect(notice).to_be_visible(timeout=1000)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"alert took {elapsed:.2f}s"
    assert "safety alert" in notice.inner_text().lower()

    # the patient sees crisis resources at once
    crisis = patient.locator("#crisis-now")
    expect(crisis).to_be_visible()
    for line in ("988", "833-773-2445", "911"):
        expect(crisis).to_contain_text(line)
    expect(crisis).to_contain_text("not watched around the clock")

    # closing it without documentation is refused
    alert = SafetyAlert.objects.get(patient=world.pat)
    clinician.goto(asgi_server + reverse("safety:alert", args=[alert.pk]))
    clinician.get_by_role("button", name="Mark resolved").click()
    expect(clinician.locator(".errors")).to_be_visible()
    alert.refresh_from_db()
    assert alert.status != "resolved" and alert.resolution == ""
