"""Bad input on the public self-referral form: clear messages, throttling,
nothing stored twice, never a 500."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from openiop.audit.models import AuditEntry
from openiop.referrals.models import Referral
from tests.conftest import World
from tests.test_referrals import form_data


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def url(world: World) -> str:
    return reverse("referrals:refer", args=[world.harborview.slug])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("given_name", "x" * 101, "at most 100 characters"),
        ("concerns", "y" * 4001, "at most 4000 characters"),
        ("given_name", "<script>alert(1)</script>", "letters, spaces, hyphens or apostrophes"),
        ("family_name", "Rivera<b>", "letters, spaces, hyphens or apostrophes"),
        ("date_of_birth", "2001-02-30", "Enter a valid date"),
        ("date_of_birth", "2999-01-01", "in the future"),
        ("date_of_birth", "1850-01-01", "Check the year"),
        ("date_of_birth", "99999-01-01", "Enter a valid date"),
        ("email", "not-an-email", "valid email"),
        ("phone", "call me maybe", "digits"),
        ("attendance", "teleport", "Select a valid choice"),
        ("availability", ["sun-midnight"], "Select a valid choice"),
        ("form_token", "short", "form expired"),
    ],
)
def test_bad_field_gives_a_clear_400_and_stores_nothing(world: World, field: str, value: object, message: str) -> None:
    client = Client()
    response = client.post(url(world), form_data(client, world, **{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "988" in response.content.decode()  # crisis resources on the error page too
    assert not Referral.objects.exists()


def test_no_way_to_reach_them(world: World) -> None:
    client = Client()
    response = client.post(url(world), form_data(client, world, email="", phone=""))
    assert response.status_code == 400 and "email address or a phone number" in response.content.decode()


def test_markup_in_free_text_is_stored_as_text_and_shown_escaped(world: World, client_for) -> None:
    client = Client()
    client.post(url(world), form_data(client, world, concerns="<script>alert('x')</script> help"))
    referral = Referral.objects.get()
    page = client_for(world.ivan).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_double_submit_stores_one_referral(world: World) -> None:
    client = Client()
    data = form_data(client, world)
    first = client.post(url(world), data)
    second = client.post(url(world), data)
    assert first.status_code == second.status_code == 302
    assert Referral.objects.count() == 1
    done = client.get(second["Location"]).content.decode()
    assert Referral.objects.get().reference in done


def test_honeypot_keeps_nothing(world: World) -> None:
    client = Client()
    response = client.post(url(world), form_data(client, world, website="http://spam.example"))
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    assert not Referral.objects.exists()
    assert not AuditEntry.objects.filter(record_type="referrals.referral").exists()


def test_a_hundred_rapid_posts_are_throttled(world: World, settings) -> None:
    settings.REFERRAL_RATE_LIMIT = 5
    client = Client()
    token_data = form_data(client, world)
    statuses = []
    for n in range(100):
        data = dict(token_data, form_token=f"token-number-{n:04d}-abcdefghij")
        statuses.append(client.post(url(world), data).status_code)
    assert statuses[:5] == [302] * 5
    assert set(statuses[5:]) == {429}
    assert Referral.objects.count() == 5
    throttled = client.post(url(world), token_data)
    assert "Too many forms" in throttled.content.decode() and "988" in throttled.content.decode()
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.20")
    assert other.post(url(world), form_data(other, world)).status_code == 302


def test_oversized_request_is_refused_without_a_500(world: World) -> None:
    client = Client()
    response = client.post(url(world), form_data(client, world, concerns="z" * 2_000_000))
    assert response.status_code == 400
    assert not Referral.objects.exists()


def test_unknown_program_is_404(world: World) -> None:
    assert Client().get(reverse("referrals:refer", args=["no-such-program"])).status_code == 404
