"""Error pages, and the small views every deployment needs."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/403_csrf.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


HOME_BY_ROLE = {
    "director": "program_overview",
    "intake": "intake_home",
    "clinician": "caseload",
    "patient": "portal:today",
    "family": "intake:family_home",
}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their role's home page."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return redirect(HOME_BY_ROLE[getattr(request.user, "role", "patient")])
