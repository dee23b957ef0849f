from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import Role
from openiop.core.errors import ServiceError
from openiop.outbox import services
from openiop.outbox.models import MessageStatus, OutboxMessage


@role_required(Role.DIRECTOR)
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """Email the program has not managed to send. Bodies are never shown (they may hold one-time links)."""
    director = acting_person(request)
    mine = OutboxMessage.objects.filter(program_id=director.program_pk).only(
        "purpose", "to_address", "subject", "status", "attempts", "next_attempt_at", "last_error", "created_at"
    )
    stuck = list(mine.exclude(status=MessageStatus.SENT).order_by("status", "created_at")[:200])
    sent_count = mine.filter(status=MessageStatus.SENT).count()
    return render(request, "outbox/outbox.html", {"stuck": stuck, "sent_count": sent_count})


@role_required(Role.DIRECTOR)
@require_POST
def retry(request: HttpRequest, message_id: int) -> HttpResponse:
    try:
        services.retry(acting_person(request), message_id)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("outbox")
    messages.success(request, _("The message will be tried again now."))
    return redirect("outbox")
