"""axe-core (npm package, pinned in package.json, installed by `npm ci`) injected by Playwright into
Debian's Chromium: no serious or critical WCAG 2.1 A/AA violation on any public, patient or family
page, in each of the four languages. Also: the pages fit a 360-pixel phone and text can be zoomed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from openiop.intake.models import FamilyAccess
from openiop.measures import services as measures
from openiop.measures.models import MeasureSchedule
from openiop.portal.models import CareMessage, FaqEntry, Modality, ProgramPage, TimeOfDay, TrackListing
from openiop.scheduling.models import Session, SessionAttendee, SessionKind
from openiop.treatment import services as treatment
from openiop.treatment.models import CheckIn
from tests.conftest import World
from tests.test_browser import browser, sign_in  # noqa: F401  (the shared Chromium fixture)
from tests.treatment_fixtures import check_in_of, make_session, plan_of

pytestmark = pytest.mark.browser

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGES = ["en", "es", "pt-br", "ht"]


def public_pages(world: World) -> list[str]:
    slug = world.harborview.slug
    finder = reverse("portal:track_finder", kwargs={"slug": slug})
    return [
        reverse("portal:program_page", kwargs={"slug": slug}),
        finder,
        finder + "?age=30&focus=both&times=evening&modality=either",
        reverse("referrals:refer", kwargs={"program_slug": slug}),
        reverse("portal:offline"),
        reverse("accounts:login"),
        reverse("accounts:password_reset"),
        "/no-such-page/",
    ]


PATIENT_PAGES = [
    "portal:today",
    "portal:schedule",
    "portal:messages",
    "portal:settings",
    "intake:patient_today",
    "measures:my_progress",
]


def patient_pages(world: World) -> list[str]:
    """The portal pages, plus the measures, treatment and schedule pages patients now have."""
    check_in = CheckIn.objects.get(discharge__enrollment__patient=world.pat)
    return [
        *(reverse(name) for name in PATIENT_PAGES),
        reverse("measures:fill", kwargs={"slug": "phq9"}),
        reverse("treatment:my_treatment"),
        reverse("treatment:my_check_in", args=[check_in.pk]),
        reverse("scheduling:my_sessions"),
        reverse("scheduling:calendar_settings"),
        reverse("rooms:sessions"),
        reverse("rooms:room", args=[open_room(world).pk]),  # open now: the camera check before joining
    ]


def open_room(world: World) -> Session:
    return Session.objects.get(family_guests=world.fay)


def family_pages(world: World) -> list[str]:
    return [
        reverse("intake:family_home"),
        reverse("intake:family_patient", kwargs={"patient_id": world.pat.pk}),
        reverse("portal:settings"),
        reverse("rooms:sessions"),
        reverse("rooms:room", args=[open_room(world).pk]),
    ]


def signed_note_for_pat(world: World) -> None:
    session = make_session(world, world.carla, [world.pat], kind=SessionKind.INDIVIDUAL)
    note = treatment.start_note(world.carla, session)
    fields: dict[str, object] = {"data": "Slept better.", "assessment": "Mood lifting.", "plan": "Keep the walks."}
    parts = {world.pat.pk: treatment.PartInput(risk="None noted.")}
    treatment.sign_note(world.carla, treatment.save_note(world.carla, note, fields=fields, parts=parts))


@pytest.fixture
def program(world: World) -> World:
    page = ProgramPage.objects.create(program=world.harborview, published=True, phone="617-555-0100", about="We help.")
    FaqEntry.objects.create(page=page, question="Is it online?", answer="Yes.")
    TrackListing.objects.create(
        track=world.track, modality=Modality.VIRTUAL, time_of_day=TimeOfDay.EVENING, hours_per_week=9
    )
    for days, kind in ((1, SessionKind.GROUP), (2, SessionKind.FAMILY)):
        starts = timezone.now() + timedelta(days=days)
        session = Session.objects.create(
            program=world.harborview, kind=kind, starts_at=starts, ends_at=starts + timedelta(hours=2)
        )
        SessionAttendee.objects.create(session=session, patient=world.pat)
    CareMessage.objects.create(patient=world.pat, author=world.carla, from_patient=False, body="Welcome!")
    # a PHQ-9 due, a treatment plan to sign, a discharge summary with its check-in and a signed session note
    MeasureSchedule.objects.create(track=world.track, questionnaire=measures.builtin_questionnaire("phq9"))
    plan_of(world, "pat")
    check_in_of(world, "pat")
    signed_note_for_pat(world)
    # a family session starting in five minutes (its room is open), with Fay invited
    FamilyAccess.objects.filter(patient=world.pat, family_member=world.fay).update(may_see_family_sessions=True)
    starts = timezone.now() + timedelta(minutes=5)
    session = Session.objects.create(
        program=world.harborview, kind=SessionKind.FAMILY, starts_at=starts, ends_at=starts + timedelta(hours=1)
    )
    session.clinicians.add(world.carla)
    session.family_guests.add(world.fay)
    SessionAttendee.objects.create(session=session, patient=world.pat)
    return world


def axe_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    tags = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']"
    result = page.evaluate(f"async () => await axe.run(document, {{runOnly: {{type: 'tag', values: {tags}}}}})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def check(page: Page, url: str, language: str) -> list[str]:
    response = page.goto(url)
    assert page.url == url, f"{url} went to {page.url}"  # not bounced to the sign-in page
    assert response is not None and response.status in (200, 404), url
    assert page.evaluate("document.documentElement.lang") == language, url
    problems = [f"{url} [{language}] {v}" for v in axe_violations(page)]
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{url} [{language}] scrolls sideways by {overflow}px at 360px")
    return problems


def new_page(browser: Browser, base: str, language: str) -> Page:  # noqa: F811
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    return context.new_page()


def test_axe_finds_nothing_serious_on_public_patient_and_family_pages(
    transactional_db,
    program: World,
    live_server,
    browser: Browser,  # noqa: F811
) -> None:
    base = live_server.url
    problems: list[str] = []
    for language in LANGUAGES:
        page = new_page(browser, base, language)
        for url in public_pages(program):
            problems += check(page, base + url, language)
        sign_in(page, base, "pat")
        page.wait_for_url(base + reverse("portal:today"))
        for url in patient_pages(program):
            problems += check(page, base + url, language)
        page.context.close()
        page = new_page(browser, base, language)
        sign_in(page, base, "fay")
        page.wait_for_url(base + reverse("intake:family_home"))
        for url in family_pages(program):
            problems += check(page, base + url, language)
        page.context.close()
    assert not problems, "\n".join(problems)


def test_text_zoomed_to_200_percent_still_fits(
    transactional_db,
    program: World,
    live_server,
    browser: Browser,  # noqa: F811
) -> None:
    # WCAG 1.4.4: at 200% zoom a 1280-pixel window is 640 CSS pixels wide; nothing may be cut off.
    context = browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=2)
    page = context.new_page()
    sign_in(page, live_server.url, "pat")
    page.wait_for_url(live_server.url + reverse("portal:today"))
    for url in patient_pages(program):
        page.goto(live_server.url + url)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, url
    context.close()


def test_the_axe_check_does_catch_a_violation(browser: Browser) -> None:  # noqa: F811
    # The check above must be able to fail: a button with no name and low-contrast text are serious.
    page = browser.new_page()
    page.set_content(
        '<html lang="en"><body><main><button></button><p style="color:#ccc">faint</p></main></body></html>'
    )
    found = axe_violations(page)
    page.close()
    assert any(v.startswith("button-name") for v in found) and any(v.startswith("color-contrast") for v in found)


def test_offline_banner_and_offline_page_from_the_service_worker(
    transactional_db,
    program: World,
    live_server,
    browser: Browser,  # noqa: F811
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    sign_in(page, live_server.url, "pat")
    page.wait_for_url(live_server.url + reverse("portal:today"))
    scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == live_server.url + "/"
    banner = page.locator("#offline-banner")
    expect(banner).to_be_hidden()
    context.set_offline(True)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("You are offline")
    # A page with patient data is never served from a cache: offline, the shell's offline page shows.
    page.goto(live_server.url + reverse("portal:schedule"))
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    assert "Group therapy" not in page.content()
    context.set_offline(False)
    page.goto(live_server.url + reverse("portal:schedule"))
    expect(page.get_by_role("heading", name="Your schedule")).to_be_visible()
    expect(banner).to_be_hidden()
    context.close()
