from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from openiop.accounts.models import Role
from openiop.core.live import directors_group, user_group


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    """Pushes live notices (e.g. a break-glass alert for the director) to the
    signed-in person's open pages."""

    groups_joined: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
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
