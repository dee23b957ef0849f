"""The backend side of the Janus VideoRoom SFU: create, check and destroy rooms over Janus's HTTP API.

Each call opens a short Janus session (create → attach → one plugin request → destroy), so there is no
keepalive to maintain. Janus keeps rooms in memory: after a restart `ensure_room` finds the room gone and
creates it again with the same id, secret and pin, and the browsers rejoin."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import httpx
from django.conf import settings

log = logging.getLogger(__name__)


class JanusError(RuntimeError):
    pass


def enabled() -> bool:
    return bool(settings.JANUS_URL)


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    body = {**body, "transaction": secrets.token_hex(6)}
    if settings.JANUS_API_SECRET:
        body["apisecret"] = settings.JANUS_API_SECRET
    try:
        response = client.post(settings.JANUS_URL.rstrip("/") + path, json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise JanusError(f"Janus did not answer: {exc}") from exc
    if answer.get("janus") == "error":
        raise JanusError(f"Janus error: {answer.get('error')}")
    return answer


def _videoroom(request: dict[str, Any]) -> dict[str, Any]:
    """Send one request to the VideoRoom plugin; return the plugin's data (errors raised)."""
    with httpx.Client(timeout=5.0) as client:
        session = _post(client, "", {"janus": "create"})["data"]["id"]
        try:
            handle = _post(client, f"/{session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})["data"]["id"]
            answer = _post(client, f"/{session}/{handle}", {"janus": "message", "body": request})
        finally:
            try:
                _post(client, f"/{session}", {"janus": "destroy"})
            except JanusError:
                log.warning("could not end a Janus session", exc_info=True)
    data: dict[str, Any] = answer.get("plugindata", {}).get("data", {})
    return data


def room_exists(room: int) -> bool:
    data = _videoroom({"request": "exists", "room": room})
    return bool(data.get("exists"))


def create_room(room: int, *, secret: str, pin: str, description: str, publishers: int = 12) -> None:
    data = _videoroom(
        {
            "request": "create",
            "admin_key": settings.JANUS_ADMIN_KEY,
            "room": room,
            "description": description,
            "secret": secret,
            "pin": pin,
            "publishers": publishers,
            "is_private": True,
            "permanent": False,
            "record": False,
            "videocodec": "vp8",
            "audiocodec": "opus",
            "notify_joining": True,
        }
    )
    if data.get("error_code") == 427:  # already exists: fine, it is ours
        return
    if data.get("error_code"):
        raise JanusError(f"Janus refused to create room {room}: {data.get('error')}")


def ensure_room(room: int, *, secret: str, pin: str, description: str) -> bool:
    """Create the room unless Janus already has it. True if it had to be (re)created."""
    if room_exists(room):
        return False
    create_room(room, secret=secret, pin=pin, description=description)
    return True


def destroy_room(room: int, *, secret: str) -> None:
    data = _videoroom({"request": "destroy", "room": room, "secret": secret, "permanent": False})
    if data.get("error_code") and data.get("error_code") != 426:  # 426: no such room (e.g. Janus restarted)
        raise JanusError(f"Janus refused to destroy room {room}: {data.get('error')}")
