from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def timedelta_minutes(value: timedelta) -> int:
    """Whole minutes, rounded up: "try again in 15 minutes"."""
    return max(1, -(-int(value.total_seconds()) // 60))
