from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import Role
from openiop.audit import services as audit
from openiop.audit.forms import AuditFilterForm
from openiop.audit.models import AuditEntry


@role_required(Role.DIRECTOR)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """The program's audit log for its director, newest first, filterable."""
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.filter(program_id=acting_person(request).program_pk)
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            if data["actor"]:
                entries = entries.filter(actor_username__iexact=data["actor"])
            if data["record_number"]:
                entries = entries.filter(patient__record_number__iexact=data["record_number"])
            if data["action"]:
                entries = entries.filter(action=data["action"])
            if data["flagged"]:
                entries = entries.filter(flagged=True)
            if data["since"]:
                entries = entries.filter(created_at__date__gte=data["since"])
            if data["until"]:
                entries = entries.filter(created_at__date__lte=data["until"])
        else:
            status = 400
            entries = entries.none()
    page = Paginator(entries.select_related("patient").order_by("-seq"), 100).get_page(request.GET.get("page"))
    # Reading the log is itself logged: who looked, with which filter.
    audit.record(
        "read",
        actor=acting_person(request),
        record_type="audit.auditentry",
        detail={"purpose": "audit-log", "filter": form.cleaned_data_for_log() if form.is_bound else {}},
    )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "audit/audit_log.html",
        {"form": form, "page": page, "querystring": params.urlencode()},
        status=status,
    )
