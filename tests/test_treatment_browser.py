"""In real headless Chromium: a clinician writes and signs a group note for six attendees."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from openiop.treatment.models import Note, NoteStatus
from tests.conftest import World, make_patient
from tests.test_browser import browser, sign_in  # noqa: F401 - the module-scoped browser fixture
from tests.treatment_fixtures import make_session

pytestmark = pytest.mark.browser


def test_clinician_writes_and_signs_a_group_note_for_six_attendees(
    transactional_db: None,
    world: World,
    live_server,
    browser: Browser,  # noqa: F811 - the fixture imported above
    settings,
) -> None:
    settings.DEMO_MODE = True  # staff skip two-factor here; the flow itself is tested in test_accounts
    extra = [make_patient(world.harborview, f"H-{n}", None, name) for n, name in
             [(11, "Sam"), (12, "Tess"), (13, "Uma"), (14, "Vic")]]  # fmt: skip
    attendees = [world.pat, world.quinn, *extra]
    session = make_session(world, world.carla, attendees, hours_ago=30)
    page = browser.new_context().new_page()
    sign_in(page, live_server.url, "carla")

    # The overdue note is on the to-do; it opens the note page.
    page.goto(live_server.url + reverse("caseload"))
    page.get_by_role("link", name="Note not signed").click()
    expect(page.get_by_role("heading", name="Each attendee")).to_be_visible()
    assert page.locator("fieldset.attendee").count() == 6

    page.select_option("#id_module", "relapse-prevention")
    page.fill("#id_topic", "Warning signs")
    page.fill("#id_observations", "The group mapped triggers and early warning signs.")
    for patient in attendees:
        page.fill(f"#id_p{patient.pk}-participation", f"Took part ({patient.record_number}).")
        page.fill(f"#id_p{patient.pk}-progress", "Named two triggers.")
        page.fill(f"#id_p{patient.pk}-risk", "None noted.")
    # A name in the shared part is caught before signing.
    page.fill("#id_observations", "The group mapped triggers; Tess led the pairs exercise.")
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.locator("main")).to_contain_text("The shared part names group members (Tess)")
    assert Note.objects.get(session=session).status == NoteStatus.DRAFT

    page.fill("#id_observations", "The group mapped triggers and early warning signs.")
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_text("Note signed and locked.")).to_be_visible()
    expect(page.get_by_role("button", name="Add addendum")).to_be_visible()

    note = Note.objects.get(session=session)
    assert note.status == NoteStatus.SIGNED and note.module == "relapse-prevention"
    parts = {part.patient_id: part for part in note.parts.all()}
    assert sorted(parts) == sorted(p.pk for p in attendees)
    for patient in attendees:
        assert parts[patient.pk].participation == f"Took part ({patient.record_number})."
        assert parts[patient.pk].risk == "None noted."
    page.goto(live_server.url + reverse("caseload"))
    expect(page.get_by_role("heading", name="To do")).to_be_visible()
    expect(page.get_by_role("link", name="Note not signed")).to_have_count(0)
