"""Live notifications over WebSockets (Channels), sent only after commit.

A message never goes out for a change that was rolled back."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def directors_group(program_id: int) -> str:
    return f"program-{program_id}-directors"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def _send(group: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "notify", "payload": payload})
    except Exception:
        # A live nudge is a convenience: the record is already saved and shows
        # on the next page load. Never fail the request over it.
        log.exception("live notification to %s failed", group)


def notify_program_directors(program_id: int, payload: dict[str, Any]) -> None:
    transaction.on_commit(lambda: _send(directors_group(program_id), payload))


def notify_users(user_ids: list[int], payload: dict[str, Any]) -> None:
    """Send `payload` to each person's open pages, after commit."""

    def send_all() -> None:
        for user_id in user_ids:
            _send(user_group(user_id), payload)

    transaction.on_commit(send_all)
