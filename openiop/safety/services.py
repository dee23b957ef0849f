"""Raising and handling safety alerts. A risk signal must always reach a person:

- `raise_alert` runs inside the caller's transaction, so the alert commits with the answer, referral or
  event that caused it, or not at all;
- it goes to the people named, the patient's care team, and the program's directors; if that leaves no
  clinician or intake coordinator (a referral with no care team yet), the program's intake coordinators and
  clinicians are added, so it never lands only with a director;
- each of them gets a live notice and an email nudge (no clinical details: it only says an urgent alert is
  waiting), and the alert stays on every recipient's list until someone acknowledges and resolves it."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.accounts.models import Program, Role, User
from openiop.audit import services as audit
from openiop.core import live
from openiop.core.errors import ServiceError
from openiop.intake.models import CareTeamMember, Patient
from openiop.outbox.services import queue_email
from openiop.safety.models import AlertSource, AlertStatus, SafetyAlert


def raise_alert(
    *,
    program: Program,
    source: str,
    summary: str,
    patient: Patient | None = None,
    about: str = "",
    link: str = "",
    notify: Iterable[User] = (),
    actor: User | None = None,
) -> SafetyAlert:
    if source not in AlertSource.values:
        raise ValueError(f"unknown alert source {source!r}")
    if patient is not None and patient.program_id != program.pk:
        raise ValueError("the patient is not in this program")
    with transaction.atomic():
        alert = SafetyAlert.objects.create(
            program=program, patient=patient, about=about[:200], source=source, summary=summary, link=link[:300]
        )
        recipients = _recipients(program, patient, notify)
        alert.notified.set(recipients)
        audit.record(
            "create",
            actor=actor,
            record=alert,
            patient=patient,
            program_id=program.pk,
            flagged=True,
            detail={"source": source, "notified": sorted(person.pk for person in recipients)},
        )
        url = settings.SITE_URL + reverse("safety:alert", args=[alert.pk])
        body = render_to_string("safety/email/alert.txt", {"url": url, "program": program})
        for person in recipients:
            if person.email:
                queue_email(
                    to=person.email,
                    subject=_("Urgent: a safety alert is waiting for you in OpenIOP"),
                    body=body,
                    purpose="safety-alert",
                    program=program,
                )
        live.notify_users(
            [person.pk for person in recipients],
            {"text": _("Urgent safety alert: open Safety alerts in OpenIOP now."), "url": url, "kind": "safety"},
        )
    return alert


def _recipients(program: Program, patient: Patient | None, notify: Iterable[User]) -> list[User]:
    staff = User.objects.filter(program=program, is_active=True)
    chosen = {person.pk for person in notify if person.program_id == program.pk and person.is_active}
    if patient is not None:
        chosen |= set(
            CareTeamMember.objects.filter(patient=patient, clinician__is_active=True).values_list(
                "clinician_id", flat=True
            )
        )
    front_line = staff.filter(pk__in=chosen, role__in=[Role.CLINICIAN, Role.INTAKE])
    if not front_line.exists():
        chosen |= set(staff.filter(role__in=[Role.CLINICIAN, Role.INTAKE]).values_list("pk", flat=True))
    chosen |= set(staff.filter(role=Role.DIRECTOR).values_list("pk", flat=True))
    return list(staff.filter(pk__in=chosen).order_by("pk"))


def acknowledge(person: User, alert: SafetyAlert) -> SafetyAlert:
    with transaction.atomic():
        alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.status != AlertStatus.OPEN:
            raise ServiceError(_("Someone has already taken this alert."))
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by = person
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        audit.record("update", actor=person, record=alert, patient=alert.patient, detail={"status": alert.status})
        others = [pk for pk in alert.notified.values_list("pk", flat=True) if pk != person.pk]
        live.notify_users(others, {"text": _("%(name)s is handling a safety alert.") % {"name": person.display_name}})
    return alert


def resolve(person: User, alert: SafetyAlert, resolution: str) -> SafetyAlert:
    with transaction.atomic():
        alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.status == AlertStatus.RESOLVED:
            raise ServiceError(_("This alert is already resolved."))
        now = timezone.now()
        if alert.acknowledged_by_id is None:
            alert.acknowledged_by, alert.acknowledged_at = person, now
        alert.status = AlertStatus.RESOLVED
        alert.resolved_by = person
        alert.resolved_at = now
        alert.resolution = resolution
        alert.save()
        audit.record("update", actor=person, record=alert, patient=alert.patient, detail={"status": alert.status})
    return alert
