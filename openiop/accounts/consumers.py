from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from openiop.accounts.middleware import idle_seconds_left
from openiop.accounts.models import Role, User
from openiop.core.live import directors_group, user_group


@database_sync_to_async
def _session_may_listen(user: User, session: Any) -> bool:
    """The same rules as for pages: staff have passed two-factor (outside demo
    mode), and the session has not gone idle."""
    if idle_seconds_left(session) < 0:
        return False
    if not user.is_program_staff or settings.DEMO_MODE:
        return True
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk and device.confirmed


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    """Pushes live notices (e.g. a break-glass alert for the director) to the
    signed-in person's open pages."""

    groups_joined: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if not await _session_may_listen(user, self.scope.get("session")):
            await self.close(code=4403)
            return
        self.groups_joined = [user_group(user.pk)]
        if user.role == Role.DIRECTOR and user.program_id:
            self.groups_joined.append(directors_group(user.program_id))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def notify(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])
