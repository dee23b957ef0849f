from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from openiop.accounts import access
from openiop.accounts.decorators import STAFF, acting_person, role_required
from openiop.audit import services as audit
from openiop.core.errors import ServiceError
from openiop.safety import services
from openiop.safety.forms import ResolveForm
from openiop.safety.models import AlertStatus


@role_required(*STAFF)
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    person = acting_person(request)
    alerts = access.safety_alerts_for(person).select_related("patient", "acknowledged_by", "resolved_by")
    open_alerts = list(alerts.exclude(status=AlertStatus.RESOLVED).order_by("created_at", "pk"))
    resolved = list(alerts.filter(status=AlertStatus.RESOLVED).order_by("-resolved_at", "-pk")[:20])
    patients = {alert.patient.pk: alert.patient for alert in open_alerts + resolved if alert.patient is not None}
    audit.record_reads_of_list(person, list(patients.values()), purpose="safety-alerts")
    return render(request, "safety/alert_list.html", {"open_alerts": open_alerts, "resolved": resolved})


@role_required(*STAFF)
@require_GET
def alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    found = access.safety_alert_for_user(request, alert_id)
    return render(request, "safety/alert.html", {"alert": found, "form": ResolveForm()})


@role_required(*STAFF)
@require_POST
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    found = access.safety_alert_for_user(request, alert_id)
    try:
        services.acknowledge(acting_person(request), found)
    except ServiceError as error:
        messages.error(request, str(error))
        return render(request, "safety/alert.html", {"alert": found, "form": ResolveForm()}, status=409)
    messages.success(request, _("You are handling this alert. The others who were alerted can see that."))
    return redirect("safety:alert", alert_id=found.pk)


@role_required(*STAFF)
@require_POST
def resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    found = access.safety_alert_for_user(request, alert_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return render(request, "safety/alert.html", {"alert": found, "form": form}, status=400)
    try:
        services.resolve(acting_person(request), found, form.cleaned_data["resolution"])
    except ServiceError as error:
        form.add_error(None, str(error))
        return render(request, "safety/alert.html", {"alert": found, "form": form}, status=409)
    messages.success(request, _("Alert resolved."))
    return redirect("safety:alert_list")
