"""Sign-ins, sign-outs and failed sign-ins go to the audit log too."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from openiop.audit.services import record


@receiver(user_logged_in)
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record("sign-in", actor=user, record=user)


@receiver(user_logged_out)
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        reason = getattr(request, "logout_reason", "") if request is not None else ""
        record("sign-out", actor=user, record=user, detail={"reason": reason} if reason else None)


@receiver(user_login_failed)
def _sign_in_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Only the username tried, never the password (Django already masks it).
    from openiop.accounts.models import User

    username = str(credentials.get("username", ""))[:150]
    known = User.objects.filter(username=username).values_list("pk", "program_id").first()
    record(
        "sign-in-failed",
        actor=None,
        record_type="accounts.user",
        record_id=known[0] if known else None,
        program_id=known[1] if known else None,
        detail={"username": username},
    )
