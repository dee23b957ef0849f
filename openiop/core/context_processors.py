from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def openiop(request: HttpRequest) -> dict[str, Any]:
    return {
        "DEMO_MODE": settings.DEMO_MODE,
        "IDLE_LOGOUT_SECONDS": settings.IDLE_LOGOUT_SECONDS,
        "IDLE_WARNING_SECONDS": settings.IDLE_WARNING_SECONDS,
        "BREAK_GLASS_MINUTES": settings.BREAK_GLASS_MINUTES,
    }
