"""Text messages behind a small interface. The backend is chosen by OPENIOP_SMS_BACKEND (a dotted path);
the default prints to the server's log, like Django's console email backend. A gateway backend
(Twilio, an SMPP provider...) implements `send(to, text)` and raises SmsError on failure."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SmsError(Exception):
    pass


class SmsBackend(Protocol):
    def send(self, to: str, text: str) -> None: ...


class ConsoleBackend:
    def send(self, to: str, text: str) -> None:
        log.warning("SMS to %s: %s", to, text)


class MemoryBackend:
    """For tests: keeps what was sent in `outbox` (a class attribute, like django.core.mail.outbox)."""

    outbox: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        MemoryBackend.outbox.append((to, text))


def backend() -> SmsBackend:
    backend_class = import_string(settings.SMS_BACKEND)
    instance: SmsBackend = backend_class()
    return instance
