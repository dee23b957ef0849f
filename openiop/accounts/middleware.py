from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

LAST_ACTIVITY_KEY = "openiop_last_activity"


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def idle_seconds_left(session: Any) -> float:
    """Seconds until the session counts as idle (negative once it does).

    The one place the idle rule lives: the middleware, the session-status
    endpoint and the WebSocket consumer all ask here."""
    last = session.get(LAST_ACTIVITY_KEY) if session is not None else None
    if not isinstance(last, (int, float)):
        return float(settings.IDLE_LOGOUT_SECONDS)
    return settings.IDLE_LOGOUT_SECONDS - (time.time() - last)


class IdleLogoutMiddleware:
    """Automatic log-off: a session idle for IDLE_LOGOUT_SECONDS ends.

    Every request counts as activity except what a page does on its own: the
    session-status poll of the warning timer (openiop/core/static/openiop/session.js)
    and WebSocket connections under /ws/."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            if idle_seconds_left(request.session) < 0:
                request.logout_reason = "idle"  # type: ignore[attr-defined]
                logout(request)
                login_url = reverse("accounts:login")
                if _wants_json(request):
                    return JsonResponse({"signed_in": False, "seconds_left": 0}, status=401)
                query = urlencode({"idle": "1", "next": request.get_full_path()})
                return HttpResponseRedirect(f"{login_url}?{query}")
            if not self._background(request.path_info):
                request.session[LAST_ACTIVITY_KEY] = time.time()
        return self.get_response(request)

    @staticmethod
    def _background(path: str) -> bool:
        return path == reverse("accounts:session_status") or path.startswith("/ws/")


class StaffTwoFactorMiddleware:
    """Staff reach nothing but the two-factor pages until they have given a
    code this session (or enrolled an authenticator). Off in demo mode only."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "is_program_staff", False)
            and not settings.DEMO_MODE
            and not user.is_verified()  # type: ignore[attr-defined]  # set by django-otp's middleware
            and not self._exempt(request.path_info)
        ):
            from django_otp import devices_for_user

            target = "accounts:two_factor" if any(devices_for_user(user)) else "accounts:two_factor_setup"
            if _wants_json(request):
                return JsonResponse({"error": "two-factor verification required"}, status=403)
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        exempt = (
            reverse("accounts:two_factor"),
            reverse("accounts:two_factor_setup"),
            reverse("accounts:logout"),
            reverse("accounts:session_status"),
            reverse("accounts:keepalive"),
        )
        return path in exempt or path.startswith(settings.STATIC_URL)
