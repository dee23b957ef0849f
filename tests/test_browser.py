"""In real headless Chromium: idle log-off with its warning, phone-width pages,
keyboard access. Needs /usr/bin/chromium (`make test` installs it as root)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect, sync_playwright

from openiop.accounts.models import User
from tests.conftest import PASSWORD, World
from tests.test_demo import HOMES

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop in this thread; the test's own
    # database calls are still synchronous, so tell Django that is fine here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + reverse("accounts:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def test_idle_warning_then_automatic_log_off(transactional_db, world: World, live_server, browser, settings) -> None:
    settings.IDLE_LOGOUT_SECONDS = 8
    settings.IDLE_WARNING_SECONDS = 4
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live_server.url, "pat")
    expect(page.get_by_role("heading", name="Hello, Pat")).to_be_visible()
    dialog = page.locator("#idle-warning")

    # A minute (here: 4 s) before the end, the warning shows with a countdown.
    expect(dialog).to_be_visible(timeout=8000)
    expect(page.locator("#idle-countdown")).not_to_have_text("0")
    page.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(2500)
    assert page.url.endswith(reverse("portal:today"))

    # Busy in another tab: when this tab's countdown ends it asks the server,
    # finds the session alive, and stays signed in.
    expect(dialog).to_be_visible(timeout=8000)
    other_tab = page.context.new_page()
    other_tab.goto(live_server.url + reverse("intake:patient_today"))
    expect(dialog).to_be_hidden(timeout=8000)
    assert page.url.endswith(reverse("portal:today"))
    other_tab.close()

    # Ignored, the warning runs out and the person is signed out.
    expect(dialog).to_be_visible(timeout=8000)
    page.wait_for_url(lambda url: "/accounts/login/" in url and "idle=1" in url, timeout=10000)
    expect(page.get_by_text("You were signed out after")).to_be_visible()
    # The server ended the session too: the page is not reachable any more.
    page.goto(live_server.url + reverse("intake:patient_today"))
    assert "/accounts/login/" in page.url
    context.close()


@pytest.mark.parametrize("username", ["dora", "ivan", "carla", "pat", "fay"])
def test_home_pages_fit_a_360_pixel_phone(
    transactional_db, world: World, live_server, browser, settings, username: str
) -> None:
    settings.DEMO_MODE = True  # staff skip two-factor here; the flow itself is tested in test_accounts
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    sign_in(page, live_server.url, username)
    role = User.objects.get(username=username).role
    page.wait_for_url(live_server.url + reverse(HOMES[role]))
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{username}'s home page scrolls sideways by {overflow}px on a phone"
    footer = page.locator("footer .crisis")
    expect(footer).to_contain_text("988")
    expect(footer).to_contain_text("833-773-2445")
    expect(footer).to_contain_text("911")
    # Keyboard: the first Tab reaches the skip link, which leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    context.close()
