from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from openiop.accounts import access
from openiop.accounts.models import STAFF_ROLES
from openiop.safety.models import AlertStatus


def openiop(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {
        "DEMO_MODE": settings.DEMO_MODE,
        "IDLE_LOGOUT_SECONDS": settings.IDLE_LOGOUT_SECONDS,
        "IDLE_WARNING_SECONDS": settings.IDLE_WARNING_SECONDS,
        "BREAK_GLASS_MINUTES": settings.BREAK_GLASS_MINUTES,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "role", None) in STAFF_ROLES:
        # Shown in the navigation of every staff page, so an alert is never one click away from unseen.
        context["OPEN_SAFETY_ALERTS"] = access.safety_alerts_for(user).exclude(status=AlertStatus.RESOLVED).count()
    return context
