"""The room's WebSocket: waiting room, admission, presence, signaling relay, chat, mute-all, crisis button.

Groups (names work across processes with the Redis channel layer):
  room-<session>          everyone admitted and connected
  room-<session>-staff    the session's clinicians (waiting list, crisis alerts)
  room-<session>-u-<user> one person's current connection (signals addressed to them; admission)

Close codes: 4401 signed out, 4403 two-factor missing or idle, 4404 not this person's room (or no such
session: the same answer), 4409 room not open, 4412 safety check missing, 4000 removed by the clinician,
4001 replaced by a newer connection of the same person, 4002 the session has ended."""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from openiop.accounts import access
from openiop.accounts.consumers import _session_may_listen
from openiop.accounts.models import User
from openiop.accounts.services import ServiceError
from openiop.rooms import janus, services
from openiop.rooms.models import MediaMode, Room
from openiop.rooms.services import room_group

log = logging.getLogger(__name__)

MAX_CHAT = 1000
MAX_SIGNAL_BYTES = 64 * 1024


def staff_group(session_id: int) -> str:
    return f"room-{session_id}-staff"


def person_group(session_id: int, user_id: int) -> str:
    return f"room-{session_id}-u-{user_id}"


@database_sync_to_async
def _open_room(user: User, session_id: int) -> tuple[access.RoomPass | None, Room | None, str]:
    room_pass = access.room_pass_for(user, session_id)
    if room_pass is None:
        return None, None, "4404"
    if not services.room_is_open(room_pass.session, room_pass.role):
        return room_pass, None, "4409"
    if room_pass.role == "patient":
        assert room_pass.patient is not None
        if not services.has_safety_check(room_pass.session, room_pass.patient):
            return room_pass, None, "4412"
    return room_pass, services.room_for(room_pass.session), ""


class RoomConsumer(AsyncJsonWebsocketConsumer):
    user: User
    room: Room
    room_pass: access.RoomPass
    session_id: int
    admitted = False
    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        user = self.scope.get("user")
        # Accept first, then close with a code, so the browser learns why (a refused handshake says nothing).
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if not await _session_may_listen(user, self.scope.get("session")):
            await self.close(code=4403)
            return
        self.user = user
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        room_pass, room, refusal = await _open_room(user, self.session_id)
        if room is None or room_pass is None:
            await self.close(code=int(refusal))
            return
        self.room_pass, self.room = room_pass, room
        entry = await database_sync_to_async(services.enter)(
            room, user, room_pass.patient, room_pass.role, self.channel_name
        )
        if entry.previous_channel and entry.previous_channel != self.channel_name:
            await self.channel_layer.send(entry.previous_channel, {"type": "room.superseded", "by": self.channel_name})
        await self._join(person_group(self.session_id, user.pk))
        if self.is_clinician:
            await self._join(staff_group(self.session_id))
        if entry.admitted:
            await self._go_in()
        else:
            await self.send_json({"type": "waiting"})
        await self._tell_staff_waiting_list()

    @property
    def is_clinician(self) -> bool:
        return self.room_pass.role == "clinician"

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def _go_in(self) -> None:
        self.admitted = True
        await self._join(room_group(self.session_id))
        peers = await database_sync_to_async(services.go_in)(self.room, self.user, self.room_pass.patient)
        message: dict[str, Any] = {
            "type": "admitted",
            "me": self.user.pk,
            "name": self.user.display_name,
            "peers": peers,
            "media": self.room.media,
            "ice_servers": services.ice_servers(),
        }
        if self.room.media == MediaMode.SFU:
            message["janus"] = await self._janus_credentials()
        await self.send_json(message)
        await self.channel_layer.group_send(
            room_group(self.session_id),
            {"type": "room.peer_joined", "id": self.user.pk, "name": self.user.display_name},
        )

    async def _janus_credentials(self) -> dict[str, Any] | None:
        try:
            return await database_sync_to_async(services.janus_credentials)(self.room, display=self.user.display_name)
        except janus.JanusError:
            log.warning("Janus unavailable for session %s", self.session_id, exc_info=True)
            return None

    async def _tell_staff_waiting_list(self) -> None:
        people = await database_sync_to_async(services.waiting_list)(self.room)
        await self.channel_layer.group_send(staff_group(self.session_id), {"type": "room.waiting", "people": people})

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if not hasattr(self, "room"):
            return
        left = await database_sync_to_async(services.disconnect)(self.room, self.user, self.channel_name)
        if left and self.admitted:
            await self.channel_layer.group_send(
                room_group(self.session_id), {"type": "room.peer_left", "id": self.user.pk}
            )
        if left:
            await self._tell_staff_waiting_list()

    # --- from the browser ------------------------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not hasattr(self, "room"):
            return
        kind = content.get("type")
        if kind == "signal" and self.admitted:
            await self._relay_signal(content)
        elif kind == "chat" and self.admitted:
            text = str(content.get("text", "")).strip()[:MAX_CHAT]
            if text:
                await self.channel_layer.group_send(
                    room_group(self.session_id),
                    {"type": "room.chat", "id": self.user.pk, "name": self.user.display_name, "text": text},
                )
        elif kind == "crisis" and self.room_pass.role == "patient":
            await database_sync_to_async(services.crisis)(self.room, self.user, self.room_pass.patient)
            await self.channel_layer.group_send(
                staff_group(self.session_id), {"type": "room.crisis", "name": self.user.display_name}
            )
            await self.send_json({"type": "crisis_sent"})
        elif kind == "janus" and self.admitted and self.room.media == MediaMode.SFU:
            await self.send_json({"type": "janus", "janus": await self._janus_credentials()})
        elif self.is_clinician:
            await self._clinician_action(kind, content)

    async def _relay_signal(self, content: dict[str, Any]) -> None:
        to = content.get("to")
        data = content.get("data")
        if not isinstance(to, int) or not isinstance(data, dict) or len(str(data)) > MAX_SIGNAL_BYTES:
            return
        await self.channel_layer.group_send(
            person_group(self.session_id, to), {"type": "room.signal", "from": self.user.pk, "data": data}
        )

    async def _clinician_action(self, kind: Any, content: dict[str, Any]) -> None:
        if kind in ("admit", "admit_all"):
            who = content.get("id")
            ids = None if kind == "admit_all" else ([who] if isinstance(who, int) else [])
            admitted = await database_sync_to_async(services.admit)(self.room, self.user, ids)
            for user_id in admitted:
                await self.channel_layer.group_send(person_group(self.session_id, user_id), {"type": "room.admitted"})
            await self._tell_staff_waiting_list()
        elif kind == "remove" and isinstance(content.get("id"), int):
            try:
                channel = await database_sync_to_async(services.remove)(self.room, self.user, content["id"])
            except ServiceError as exc:
                await self.send_json({"type": "error", "text": str(exc)})
                return
            if channel:
                await self.channel_layer.send(channel, {"type": "room.removed"})
            await self.channel_layer.group_send(
                room_group(self.session_id), {"type": "room.peer_left", "id": content["id"]}
            )
            await self._tell_staff_waiting_list()
        elif kind == "mute_all" and self.admitted:
            await self.channel_layer.group_send(room_group(self.session_id), {"type": "room.mute_all"})

    # --- from the channel layer ------------------------------------------------------------------

    async def room_signal(self, event: dict[str, Any]) -> None:
        if self.admitted:
            await self.send_json({"type": "signal", "from": event["from"], "data": event["data"]})

    async def room_chat(self, event: dict[str, Any]) -> None:
        if self.admitted:
            await self.send_json({"type": "chat", "id": event["id"], "name": event["name"], "text": event["text"]})

    async def room_peer_joined(self, event: dict[str, Any]) -> None:
        if self.admitted and event["id"] != self.user.pk:
            await self.send_json({"type": "peer_joined", "id": event["id"], "name": event["name"]})

    async def room_peer_left(self, event: dict[str, Any]) -> None:
        if self.admitted and event["id"] != self.user.pk:
            await self.send_json({"type": "peer_left", "id": event["id"]})

    async def room_admitted(self, event: dict[str, Any]) -> None:
        if not self.admitted:
            await self._go_in()

    async def room_waiting(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "waiting_list", "people": event["people"]})

    async def room_mute_all(self, event: dict[str, Any]) -> None:
        if self.admitted and not self.is_clinician:
            await self.send_json({"type": "mute_all"})

    async def room_crisis(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "crisis", "name": event["name"]})

    async def room_removed(self, event: dict[str, Any]) -> None:
        self.admitted = False
        await self.send_json({"type": "removed"})
        await self.close(code=4000)

    async def room_ended(self, event: dict[str, Any]) -> None:
        self.admitted = False
        await self.send_json({"type": "ended"})
        await self.close(code=4002)

    async def room_superseded(self, event: dict[str, Any]) -> None:
        if event.get("by") != self.channel_name:
            self.admitted = False
            await self.send_json({"type": "superseded"})
            await self.close(code=4001)
