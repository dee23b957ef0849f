"""Sign-in, throttling, two-factor, idle log-off, invitations, password reset."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.middleware import LAST_ACTIVITY_KEY
from openiop.accounts.models import Invitation, Role, User
from openiop.audit.models import AuditEntry
from tests.conftest import PASSWORD, World

LOGIN = reverse("accounts:login")


def login(client: Client, username: str, password: str = PASSWORD, **extra: str):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def allow_next_try(device: TOTPDevice) -> None:
    """django-otp makes you wait after a wrong code; a test need not."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    device.refresh_from_db()


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_login_page_has_djangos_field_names(client: Client) -> None:
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert b'name="username"' in page.content and b'name="password"' in page.content
    assert b"Demo mode" not in page.content


def test_passwords_are_hashed_with_argon2(world: World) -> None:
    assert identify_hasher(world.pat_user.password).algorithm == "argon2"


def test_wrong_password_gives_a_clear_message(world: World, client: Client) -> None:
    response = login(client, "pat", "nope")
    assert response.status_code == 400
    assert b"That username and password do not match" in response.content
    assert "_auth_user_id" not in client.session


def test_throttling_after_repeated_wrong_passwords(world: World, client: Client, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "pat", "wrong").status_code == 400
    locked = login(client, "pat", "wrong")
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    assert b"Try again in 15 minutes" in locked.content
    # Even the right password is refused while locked out...
    assert login(client, "pat").status_code == 429
    assert "_auth_user_id" not in client.session
    # ...but the lock is on that username from that address, not on everyone:
    # another person from the same address, and the same person from another.
    assert login(Client(), "quinn").status_code == 302
    assert login(Client(REMOTE_ADDR="198.51.100.23"), "pat").status_code == 302


def test_patient_signs_in_without_two_factor_and_lands_on_today(world: World, client: Client) -> None:
    response = login(client, "pat")
    assert response.status_code == 302
    home = client.get(response["Location"], follow=True)
    assert home.redirect_chain[-1][0] == reverse("portal:today")
    assert b"Hello, Pat" in home.content
    assert b"988" in home.content and b"833-773-2445" in home.content and b"911" in home.content


def test_staff_without_two_factor_cannot_reach_patient_data(world: World, client: Client) -> None:
    assert login(client, "carla").status_code == 302
    chart = reverse("intake:patient_chart", args=[world.pat.pk])
    response = client.get(chart)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))
    assert not AuditEntry.objects.filter(action="read", patient=world.pat).exists()
    # JSON callers get a 403, not a page to follow.
    assert client.get(chart, HTTP_ACCEPT="application/json").status_code == 403
    assert client.get(reverse("caseload")).status_code == 302


def test_demo_mode_lets_staff_skip_two_factor_and_says_so(world: World, client: Client, settings) -> None:
    settings.DEMO_MODE = True
    page = client.get(LOGIN)
    assert b"Demo mode" in page.content and b"two-factor" in page.content
    login(client, "carla")
    assert client.get(reverse("intake:patient_chart", args=[world.pat.pk])).status_code == 200


def test_staff_enrol_an_authenticator_then_give_a_code_at_each_sign_in(world: World, client: Client) -> None:
    login(client, "carla")
    setup = client.get(reverse("accounts:two_factor_setup"))
    assert setup.status_code == 200 and b"<svg" in setup.content
    device = TOTPDevice.objects.get(user=world.carla, confirmed=False)
    # Reloading the page does not make a second device.
    client.get(reverse("accounts:two_factor_setup"))
    assert TOTPDevice.objects.filter(user=world.carla).count() == 1

    wrong = client.post(reverse("accounts:two_factor_setup"), {"code": "000000"})
    assert wrong.status_code == 400 and b"did not match" in wrong.content
    too_soon = client.post(reverse("accounts:two_factor_setup"), {"code": "000000"})
    assert too_soon.status_code == 400 and b"Too many wrong codes" in too_soon.content
    allow_next_try(device)
    not_digits = client.post(reverse("accounts:two_factor_setup"), {"code": "12ab"})
    assert not_digits.status_code == 400 and b"Enter the 6 digits" in not_digits.content

    done = client.post(reverse("accounts:two_factor_setup"), {"code": current_code(device)})
    assert done.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(actor=world.carla, detail__two_factor="enrolled").exists()
    assert client.get(reverse("intake:patient_chart", args=[world.pat.pk])).status_code == 200

    # Next sign-in: password, then the code.
    client.post(reverse("accounts:logout"))
    other = Client()
    login(other, "carla")
    response = other.get(reverse("caseload"))
    assert response["Location"].startswith(reverse("accounts:two_factor"))
    assert not response["Location"].startswith(reverse("accounts:two_factor_setup"))
    assert other.post(reverse("accounts:two_factor"), {"code": "123456"}).status_code == 400
    allow_next_try(device)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the enrolment code may not be reused: new window
    device.refresh_from_db()
    assert other.post(reverse("accounts:two_factor"), {"code": current_code(device)}).status_code == 302
    assert other.get(reverse("caseload")).status_code == 200


def test_idle_session_is_signed_out(world: World, client_for, settings) -> None:
    client = client_for(world.pat_user)
    assert client.get(reverse("intake:patient_today")).status_code == 200
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - settings.IDLE_LOGOUT_SECONDS - 5
    session.save()
    response = client.get(reverse("intake:patient_today"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN + "?idle=1")
    assert "_auth_user_id" not in client.session
    notice = client.get(response["Location"])
    assert b"You were signed out after 15 minutes without activity" in notice.content
    assert AuditEntry.objects.filter(action="sign-out", actor=world.pat_user, detail__reason="idle").exists()


def test_session_status_does_not_count_as_activity_but_keepalive_does(world: World, client_for, settings) -> None:
    client = client_for(world.pat_user)
    client.get(reverse("intake:patient_today"))
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - (settings.IDLE_LOGOUT_SECONDS - 30)
    session.save()
    status = client.get(reverse("accounts:session_status")).json()
    assert status["signed_in"] and 20 <= status["seconds_left"] <= 30
    again = client.get(reverse("accounts:session_status")).json()
    assert again["seconds_left"] <= status["seconds_left"]  # polling did not reset the clock
    assert client.post(reverse("accounts:keepalive")).status_code == 200
    refreshed = client.get(reverse("accounts:session_status")).json()
    assert refreshed["seconds_left"] >= settings.IDLE_LOGOUT_SECONDS - 2


def test_director_invites_a_clinician_who_sets_a_password(
    world: World, client_for, settings, django_capture_on_commit_callbacks
) -> None:
    settings.SITE_URL = "https://iop.example.org"
    director = client_for(world.dora)
    form = {
        "first_name": "Nia",
        "last_name": "Okoro",
        "email": "nia@example.org",
        "username": "nia",
        "role": "clinician",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = director.post(reverse("people"), form)
    assert response.status_code == 302
    nia = User.objects.get(username="nia")
    assert (nia.role, nia.program, nia.has_usable_password()) == (Role.CLINICIAN, world.harborview, False)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nia@example.org"]
    link = re.search(r"https://iop\.example\.org(/accounts/invitation/[\w-]+/)", str(mail.outbox[0].body))
    assert link is not None
    assert Invitation.objects.get(user=nia).token_hash not in mail.outbox[0].body  # only the hash is stored

    # Sending the same form again stores nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = director.post(reverse("people"), form)
    assert again.status_code == 400 and b"That username is taken." in again.content
    assert User.objects.filter(username="nia").count() == 1 and len(mail.outbox) == 1

    invited = Client()
    page = invited.get(link.group(1))
    assert page.status_code == 200 and b"Welcome, Nia Okoro" in page.content
    weak = invited.post(link.group(1), {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 400
    new_password = "a-long-and-unusual-passphrase"
    done = invited.post(link.group(1), {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    assert login(Client(), "nia", new_password).status_code == 302
    # The link works once.
    assert invited.get(link.group(1)).status_code == 404


def test_only_directors_invite_and_only_staff_roles(world: World, client_for) -> None:
    director = client_for(world.dora)
    form = {"first_name": "X", "last_name": "Y", "email": "x@example.org", "username": "xy", "role": "patient"}
    response = director.post(reverse("people"), form)
    assert response.status_code == 400
    assert not User.objects.filter(username="xy").exists()
    assert client_for(world.carla).post(reverse("people"), {**form, "role": "clinician"}).status_code == 404


def test_password_reset_by_email_also_lifts_a_lockout(world: World, client: Client, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "pat", "wrong")
    assert login(client, "pat").status_code == 429
    response = client.post(reverse("accounts:password_reset"), {"email": "pat@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/[^/]+/[^/]+/)", str(mail.outbox[0].body))
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    assert b"Choose a new password" in form_page.content
    new_password = "another-long-passphrase-9"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    assert login(Client(), "pat", new_password).status_code == 302


@pytest.mark.parametrize("username", ["fay", "pat"])
def test_patients_and_family_never_see_two_factor_pages(world: World, client: Client, username: str) -> None:
    login(client, username)
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 302
    assert not TOTPDevice.objects.filter(user__username=username).exists()


def test_create_program_makes_the_first_director(db, settings, django_capture_on_commit_callbacks) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.SITE_URL = "https://iop.example.org"
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "create_program",
            name="Harbor IOP",
            slug="harbor",
            director_username="alice",
            director_email="alice@example.org",
            stdout=out,
        )
    alice = User.objects.get(username="alice")
    assert alice.program is not None and alice.program.name == "Harbor IOP"
    assert alice.role == Role.DIRECTOR and not alice.has_usable_password()
    link = re.search(r"https://iop\.example\.org(/accounts/invitation/[\w-]+/)", out.getvalue())
    assert link is not None and link.group(0) in str(mail.outbox[0].body)
    new_password = "director-passphrase-42"
    Client().post(link.group(1), {"new_password1": new_password, "new_password2": new_password})
    assert login(Client(), "alice", new_password).status_code == 302
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_program", name="X", slug="harbor", director_username="bob",
                     director_email="b@example.org", stdout=StringIO())  # fmt: skip
    with pytest.raises(CommandError, match="valid email"):
        call_command("create_program", name="X", slug="other", director_username="bob",
                     director_email="not-an-email", stdout=StringIO())  # fmt: skip
    assert not User.objects.filter(username="bob").exists()


def test_director_manages_staff_who_leave_or_lose_a_phone(world: World, client_for) -> None:
    director = client_for(world.dora)
    carla_client = client_for(world.carla)  # has an authenticator (sign_in gave her one)
    url = reverse("manage_person", args=[world.carla.pk])

    assert director.post(url, {"action": "reset-two-factor"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=world.carla).exists()
    # Her current session is no longer verified: she must enrol again.
    assert carla_client.get(reverse("caseload"))["Location"].startswith(reverse("accounts:two_factor_setup"))

    assert director.post(url, {"action": "deactivate"}).status_code == 302
    world.carla.refresh_from_db()
    assert not world.carla.is_active
    assert login(Client(), "carla").status_code == 400  # refused, with the form again
    assert director.post(url, {"action": "reactivate"}).status_code == 302
    world.carla.refresh_from_db()
    assert world.carla.is_active
    actions = AuditEntry.objects.filter(actor=world.dora, record_type="accounts.user", record_id=str(world.carla.pk))
    assert [entry.detail for entry in actions.order_by("seq")] == [
        {"two_factor": "reset", "devices": 1},
        {"active": False},
        {"active": True},
    ]
    # A director cannot lock themselves out, and nobody else may do any of this.
    own = director.post(reverse("manage_person", args=[world.dora.pk]), {"action": "deactivate"}, follow=True)
    assert b"You cannot deactivate your own account." in own.content
    assert client_for(world.cole).post(url, {"action": "deactivate"}).status_code == 404
    assert director.post(url, {"action": "explode"}).status_code == 400


def test_change_password(world: World, client_for) -> None:
    client = client_for(world.pat_user)
    wrong = client.post(
        reverse("accounts:password_change"),
        {"old_password": "nope", "new_password1": "fresh-passphrase-77", "new_password2": "fresh-passphrase-77"},
    )
    assert wrong.status_code == 400 and b"Your old password was entered incorrectly" in wrong.content
    done = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "fresh-passphrase-77", "new_password2": "fresh-passphrase-77"},
    )
    assert done.status_code == 302
    assert client.get(reverse("intake:patient_today")).status_code == 200  # still signed in here
    assert login(Client(), "pat", "fresh-passphrase-77").status_code == 302
    assert AuditEntry.objects.filter(actor=world.pat_user, detail__password="changed").exists()


def test_a_second_session_never_sees_the_secret_being_enrolled(world: World) -> None:
    victim, attacker = Client(), Client()
    login(victim, "carla")
    login(attacker, "carla")  # someone else who has her password
    victim.get(reverse("accounts:two_factor_setup"))
    attacker.get(reverse("accounts:two_factor_setup"))
    victim_device = TOTPDevice.objects.get(pk=victim.session["openiop_pending_totp_device"])
    attacker_device = TOTPDevice.objects.get(pk=attacker.session["openiop_pending_totp_device"])
    assert victim_device.key != attacker_device.key
    # Reloading keeps one's own secret (the app already scanned it).
    victim.get(reverse("accounts:two_factor_setup"))
    assert victim.session["openiop_pending_totp_device"] == victim_device.pk
    assert victim.post(reverse("accounts:two_factor_setup"), {"code": current_code(victim_device)}).status_code == 302
    # Every other pending secret dies with the confirmation.
    assert not TOTPDevice.objects.filter(pk=attacker_device.pk).exists()
    fresh = Client()
    login(fresh, "carla")
    assert fresh.post(reverse("accounts:two_factor"), {"code": current_code(attacker_device)}).status_code == 400
    assert fresh.get(reverse("caseload")).status_code == 302


@pytest.mark.parametrize("email_configured", [True, False])
def test_the_director_sees_the_invitation_link_only_without_a_mail_server(
    world: World, client_for, settings, email_configured: bool
) -> None:
    settings.EMAIL_CONFIGURED = email_configured
    form = {"first_name": "Nia", "last_name": "O", "email": "nia@example.org", "username": "nia", "role": "intake"}
    page = client_for(world.dora).post(reverse("people"), form, follow=True)
    assert (b"/accounts/invitation/" in page.content) is not email_configured
    assert (b"No mail server is set up" in page.content) is not email_configured


def test_password_reset_is_audited(world: World, client: Client) -> None:
    client.post(reverse("accounts:password_reset"), {"email": "pat@example.org"})
    link = re.search(r"https?://[^/]+(/accounts/reset/[^/]+/[^/]+/)", str(mail.outbox[0].body))
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "reset-pass-4242", "new_password2": "reset-pass-4242"}
    )
    assert AuditEntry.objects.filter(actor=world.pat_user, detail__password="reset by email").exists()


def test_create_program_with_a_taken_username_stores_nothing(world: World) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    from openiop.accounts.models import Program

    with pytest.raises(CommandError, match=r"That username is taken\."):
        call_command("create_program", name="Y", slug="new-one", director_username="DORA",
                     director_email="d@example.org", stdout=StringIO())  # fmt: skip
    assert not Program.objects.filter(slug="new-one").exists()


def test_invalid_password_reset_forms_are_400(world: World, client: Client) -> None:
    assert client.post(reverse("accounts:password_reset"), {"email": "not-an-email"}).status_code == 400
    client.post(reverse("accounts:password_reset"), {"email": "pat@example.org"})
    link = re.search(r"https?://[^/]+(/accounts/reset/[^/]+/[^/]+/)", str(mail.outbox[0].body))
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    mismatch = client.post(form_page.redirect_chain[-1][0], {"new_password1": "abc-def-ghi-1", "new_password2": "x"})
    assert mismatch.status_code == 400
