"""Email for intake goes through the outbox (openiop.outbox.services.queue_email)
when it is installed; until then, Django's send_mail after commit."""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction


def queue_email(*, to: str, subject: str, body: str, purpose: str, program: Any = None) -> None:
    try:
        outbox: Any = importlib.import_module("openiop.outbox.services")
    except ImportError:
        transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to]))
        return
    outbox.queue_email(to=to, subject=subject, body=body, purpose=purpose, program=program)
