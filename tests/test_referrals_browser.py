"""The whole intake path in real headless Chromium: a person refers
themselves, Ivan screens them, Carla confirms the recommendation, the person
signs their consents from the emailed link, Ivan enrolls them, and they sign
in for the first time from their invitation."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from openiop.accounts.models import User
from openiop.audit.models import AuditEntry
from openiop.intake.models import Enrollment
from openiop.referrals.models import Referral, SignedConsent, Status
from tests.conftest import PASSWORD, World
from tests.test_browser import browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = pytest.mark.browser


def staff_sign_in(page: Page, base: str, user: User) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(base + reverse("accounts:login"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.fill("#id_code", f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}")
    page.get_by_role("button", name="Continue").click()  # not the header's "Sign out"
    expect(page.locator("header.site .who")).to_be_visible()


def link_in_last_email(to: str, pattern: str) -> str:
    for message in reversed(mail.outbox):
        if to in message.to:
            found = re.search(pattern, str(message.body))
            if found:
                return found.group(0)
    raise AssertionError(f"no email to {to} matching {pattern}")


def test_public_referral_to_first_sign_in(transactional_db, world: World, live_server, browser: Browser) -> None:  # noqa: F811
    cache.clear()
    base = live_server.url
    person = browser.new_context().new_page()

    # 1. The public form, with crisis resources on the page.
    person.goto(base + reverse("referrals:refer", args=[world.harborview.slug]))
    expect(person.locator(".crisis-now")).to_contain_text("988")
    person.fill("#id_given_name", "Dana")
    person.fill("#id_family_name", "Rivera")
    person.fill("#id_date_of_birth", "1991-03-04")
    person.fill("#id_email", "dana@example.org")
    person.fill("#id_concerns", "Drinking every night since the layoff.")
    person.check("#id_concern_substance_use")
    for slot in ("mon-evening", "tue-evening", "thu-evening"):
        person.check(f"input[name=availability][value={slot}]")
    person.get_by_role("button", name="Send").click()
    expect(person.get_by_role("heading", name="Thank you, we have your request")).to_be_visible()
    reference = person.locator(".reference").inner_text()
    referral = Referral.objects.get(reference=reference)

    # 2. Ivan sees it on the board and screens it.
    ivan = browser.new_context().new_page()
    staff_sign_in(ivan, base, world.ivan)
    ivan.goto(base + reverse("referrals:board"))
    row = ivan.locator("tr", has_text=reference)
    expect(row).to_contain_text("Screen")
    row.get_by_role("link", name=reference).click()
    ivan.get_by_role("link", name="Start the screening").click()
    ivan.select_option("#id_focus", "substance-use")
    for field, value in (("withdrawal", "1"), ("biomedical", "0"), ("emotional", "1"), ("readiness", "2"),
                         ("relapse", "3"), ("environment", "2")):  # fmt: skip
        ivan.select_option(f"#id_{field}", value)
    ivan.fill("#id_hours_per_week", "12")
    ivan.fill("#id_days_per_week", "4")
    ivan.get_by_role("button", name="Save screening").click()
    expect(ivan.locator(".recommendation")).to_contain_text("intensive outpatient program (IOP)")
    expect(ivan.locator(".recommendation")).to_contain_text("adult-substance-use")
    expect(ivan.locator(".fired")).to_contain_text("risk of relapse or continued use rated 3 of 4")

    # 3. Carla, a clinician, confirms it.
    carla = browser.new_context().new_page()
    staff_sign_in(carla, base, world.carla)
    carla.goto(base + reverse("referrals:detail", args=[referral.pk]))
    carla.get_by_role("button", name="Save decision").click()
    expect(carla.locator(".decision-made")).to_contain_text("Confirmed")

    # 4. Ivan emails the consent forms; the person signs them from the link.
    ivan.reload()
    ivan.get_by_role("button", name="Email the consent forms").click()
    expect(ivan.locator(".messages")).to_contain_text("Consent link sent")
    consent_url = link_in_last_email("dana@example.org", r"http://\S+/consent/\S+/")
    person.goto(consent_url.replace("http://127.0.0.1:8000", base))
    expect(person.locator(".consent-doc[data-kind=part2]")).to_contain_text("Who may share: Harborview")
    expect(person.locator(".consent-doc[data-kind=part2]")).to_contain_text("Federal law prohibits")
    person.fill("#id_typed_name", "Dana Rivera")
    person.get_by_role("button", name="Sign").click()
    expect(person.get_by_role("heading", name="Thank you, your consents are signed")).to_be_visible()
    assert SignedConsent.objects.filter(referral=referral).count() == 3  # treatment, telehealth, Part 2

    # 5. Ivan enrolls; the invitation goes by email.
    ivan.reload()
    ivan.get_by_role("link", name="Enroll").last.click()
    ivan.select_option("#id_track", str(world.track.pk))
    ivan.fill("#id_emergency_contact_name", "Luis Rivera")
    ivan.fill("#id_emergency_contact_phone", "617-555-0101")
    ivan.fill("#id_emergency_contact_relationship", "brother")
    ivan.get_by_role("button", name="Enroll and send the invitation").click()
    expect(ivan.locator(".messages")).to_contain_text("Dana Rivera is enrolled")
    expect(ivan.locator(".status")).to_have_text("Enrolled")

    # 6. The new patient sets a password from the invitation and signs in for the first time.
    invitation = link_in_last_email("dana@example.org", r"http://\S+/accounts/invitation/\S+")
    username = re.search(r"Your username is (\S+)", str(mail.outbox[-1].body))
    assert username
    person.goto(invitation.replace("http://127.0.0.1:8000", base))
    person.fill("#id_new_password1", "a-long-pass-phrase-1")
    person.fill("#id_new_password2", "a-long-pass-phrase-1")
    person.get_by_role("button", name="Set password").click()
    expect(person.locator(".messages")).to_contain_text("Your password is set")
    person.fill("#id_username", username.group(1))
    person.fill("#id_password", "a-long-pass-phrase-1")
    person.get_by_role("button", name="Sign in").click()
    expect(person.get_by_role("heading", name="Hello, Dana")).to_be_visible()
    person.get_by_role("link", name="My consents").click()
    expect(person.locator("section.consent")).to_have_count(3)

    referral.refresh_from_db()
    assert referral.status == Status.ENROLLED
    assert Enrollment.objects.get(patient=referral.patient).track == world.track
    assert list(referral.events.values_list("to_status", flat=True)) == [
        "new", "screening", "recommended", "consented", "enrolled",
    ]  # fmt: skip
    # Every step is in the audit log.
    audited = set(AuditEntry.objects.values_list("record_type", flat=True))
    assert {"referrals.referral", "referrals.screening", "referrals.recommendation", "referrals.signedconsent",
            "intake.patient", "intake.enrollment", "accounts.invitation"} <= audited  # fmt: skip
