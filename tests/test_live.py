"""Live notices over Channels: in-memory layer and a real Redis."""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlparse

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import services
from openiop.accounts.consumers import NotificationsConsumer
from openiop.accounts.middleware import LAST_ACTIVITY_KEY
from tests.conftest import World

REDIS_URL = os.environ.get("OPENIOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable() -> bool:
    url = urlparse(REDIS_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["in-memory", "redis"])
def channel_layer(request, settings):
    if request.param == "redis":
        if not redis_reachable():
            if os.environ.get("CI") == "true":
                pytest.fail(f"Redis is not reachable at {REDIS_URL} under CI=true")
            pytest.skip(f"Redis is not reachable at {REDIS_URL}")
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [REDIS_URL], "prefix": f"openiop-test-{os.getpid()}"},
            }
        }
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield request.param
    channel_layers.backends.clear()


def test_director_is_told_live_about_break_glass(world: World, channel_layer, django_capture_on_commit_callbacks):
    dora_device = TOTPDevice.objects.create(user=world.dora, name="phone", confirmed=True)
    otto_device = TOTPDevice.objects.create(user=world.otto, name="phone", confirmed=True)

    def grant() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.grant_break_glass(world.carla, world.quinn, "safety call tonight")

    async def scenario() -> tuple[dict[str, str], dict[str, str] | None]:
        director = WebsocketCommunicator(NotificationsConsumer.as_asgi(), "/ws/notifications/")
        director.scope["user"] = world.dora
        director.scope["session"] = {"otp_device_id": dora_device.persistent_id}
        other_director = WebsocketCommunicator(NotificationsConsumer.as_asgi(), "/ws/notifications/")
        other_director.scope["user"] = world.otto
        other_director.scope["session"] = {"otp_device_id": otto_device.persistent_id}
        assert (await director.connect(timeout=10))[0] and (await other_director.connect(timeout=10))[0]
        await sync_to_async(grant)()
        notice = await director.receive_json_from(timeout=10)
        leaked = None if await other_director.receive_nothing(timeout=0.3) else await other_director.receive_json_from()
        await director.disconnect()
        await other_director.disconnect()
        return notice, leaked

    notice, leaked = async_to_sync(scenario)()
    assert notice["kind"] == "break-glass" and "H-2" in notice["text"]
    assert leaked is None  # another program's director hears nothing


def test_signed_out_sockets_are_refused(channel_layer) -> None:
    async def scenario() -> tuple[bool, int | None]:
        socket_ = WebsocketCommunicator(NotificationsConsumer.as_asgi(), "/ws/notifications/")
        socket_.scope["user"] = AnonymousUser()
        connected, code = await socket_.connect(timeout=10)
        return connected, code

    connected, code = async_to_sync(scenario)()
    assert not connected and code == 4401


def test_staff_sockets_need_two_factor_and_a_live_session(world: World, channel_layer, settings) -> None:
    device = TOTPDevice.objects.create(user=world.dora, name="phone", confirmed=True)

    async def attempt(session: dict[str, object]) -> tuple[bool, int | None]:
        socket_ = WebsocketCommunicator(NotificationsConsumer.as_asgi(), "/ws/notifications/")
        socket_.scope["user"] = world.dora
        socket_.scope["session"] = session
        connected, code = await socket_.connect(timeout=10)
        if connected:
            await socket_.disconnect()
        return connected, code

    assert async_to_sync(attempt)({}) == (False, 4403)  # password only
    assert async_to_sync(attempt)({"otp_device_id": device.persistent_id})[0]
    idle = {"otp_device_id": device.persistent_id, LAST_ACTIVITY_KEY: time.time() - settings.IDLE_LOGOUT_SECONDS - 1}
    assert async_to_sync(attempt)(idle) == (False, 4403)
    settings.DEMO_MODE = True
    assert async_to_sync(attempt)({})[0]
