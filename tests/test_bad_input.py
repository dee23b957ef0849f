"""Bad input gets a clear message and a 4xx, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World


@pytest.mark.parametrize(
    "path",
    [
        "/patients/abc/",
        "/patients/-1/",
        "/patients/0/",
        "/patients/1.5/",
        "/patients/99999999999999999999999/",  # bigger than any database id
        "/patients/9223372036854775808/",  # one past a 64-bit id
        "/patients/%00/",
        "/program/break-glass/99999999999999999999/review/",
        "/family/patients/1'%20OR%201=1/",
        "/accounts/invitation/short/",
        "/nope/",
    ],
)
def test_malformed_ids_are_a_clear_404(world: World, client_for, path: str) -> None:
    response = client_for(world.dora).get(path)
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_largest_valid_id_is_a_404_not_a_database_error(world: World, client_for) -> None:
    response = client_for(world.dora).get("/patients/9223372036854775807/")
    assert response.status_code == 404


def test_huge_body_is_rejected_with_400(world: World, client_for, settings) -> None:
    client = client_for(world.carla)
    body = {"record_number": "H-1", "reason": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)}
    response = client.post(reverse("break_glass"), body)
    assert response.status_code == 400
    assert b"malformed or too large" in response.content


def test_too_many_fields_is_rejected_with_400(world: World, client_for) -> None:
    client = client_for(world.carla)
    response = client.post(reverse("break_glass"), {f"f{i}": "1" for i in range(600)})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "name", "kwargs"),
    [
        ("delete", "intake:patient_chart", {"patient_id": 1}),
        ("put", "caseload", {}),
        ("post", "audit_log", {}),
        ("get", "accounts:keepalive", {}),
        ("get", "review_break_glass", {"grant_id": 1}),
        ("patch", "accounts:session_status", {}),
    ],
)
def test_wrong_method_is_405_with_an_explanation(world: World, client_for, method: str, name: str, kwargs) -> None:
    role_user = {"caseload": world.carla}.get(name, world.dora)
    client = client_for(role_user)
    response = getattr(client, method)(reverse(name, kwargs=kwargs))
    assert response.status_code == 405
    assert b"This address does not accept that kind of request" in response.content
    assert response["Allow"]


def test_missing_csrf_token_is_403_with_an_explanation(world: World) -> None:
    from tests.conftest import sign_in

    client = sign_in(Client(enforce_csrf_checks=True), world.carla)
    response = client.post(reverse("break_glass"), {"record_number": "H-2", "reason": "safety concern tonight"})
    assert response.status_code == 403
    assert b"This form has expired" in response.content
    from openiop.accounts.models import BreakGlassGrant

    assert not BreakGlassGrant.objects.filter(clinician=world.carla).exists()


def test_login_without_csrf_is_403(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:login"), {"username": "pat", "password": "x"})
    assert response.status_code == 403


def test_form_errors_are_400_and_store_nothing(world: World, client_for) -> None:
    from openiop.accounts.models import BreakGlassGrant

    client = client_for(world.carla)
    short = client.post(reverse("break_glass"), {"record_number": "H-2", "reason": "because"})
    assert short.status_code == 400
    assert b"at least 10 characters" in short.content
    unknown = client.post(reverse("break_glass"), {"record_number": "E-1", "reason": "a patient in another program"})
    assert unknown.status_code == 400
    assert b"No patient in your program has that record number." in unknown.content
    assert not BreakGlassGrant.objects.filter(clinician=world.carla).exists()


def test_bad_page_number_is_handled(world: World, client_for) -> None:
    client = client_for(world.dora)
    for page in ("abc", "-3", "99999999999999999999"):
        assert client.get(reverse("program_patients"), {"page": page}).status_code == 200
        assert client.get(reverse("audit_log"), {"page": page}).status_code == 200


@pytest.mark.parametrize("query", ["%00", "a" * 101])
def test_bad_patient_search_is_400(world: World, client_for, query: str) -> None:
    from urllib.parse import unquote

    response = client_for(world.dora).get(reverse("program_patients"), {"q": unquote(query)})
    assert response.status_code == 400
    assert b"errors" in response.content


def test_signed_in_with_next_pointing_at_the_login_page(world: World, client_for) -> None:
    client = client_for(world.pat_user)
    for next_ in ("/accounts/login/", "/accounts/login/?next=/accounts/login/"):
        response = client.get(reverse("accounts:login"), {"next": next_})
        assert response.status_code == 302 and response["Location"] == "/"
