"""Writes for the portal: preferences and language, care-team messages, the public page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from openiop.accounts.models import Program, Role, User
from openiop.audit import services as audit
from openiop.core import live
from openiop.core.errors import ServiceError
from openiop.intake.models import Patient
from openiop.outbox.services import queue_email
from openiop.portal.models import CareMessage, FaqEntry, Preferences, ProgramPage

MESSAGE_MAX_CHARS = 4000
LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


def save_preferences(user: User, **changes: Any) -> Preferences:
    with transaction.atomic():
        prefs, _created = Preferences.objects.select_for_update().get_or_create(user=user)
        for name, value in changes.items():
            setattr(prefs, name, value)
        if prefs.language and prefs.language not in LANGUAGE_CODES:
            raise ServiceError(_("That language is not offered."))
        prefs.save()
        audit.record("update", actor=user, record=prefs, detail={"fields": sorted(changes)})
    return prefs


def set_language(user: User, language: str) -> Preferences:
    if language not in LANGUAGE_CODES:
        raise ServiceError(_("That language is not offered."))
    return save_preferences(user, language=language)


def care_team_users(patient: Patient) -> list[User]:
    return [m.clinician for m in patient.care_team_members.select_related("clinician") if m.clinician.is_active]


def send_message(*, patient: Patient, author: User, body: str) -> CareMessage:
    """A message in the patient's thread. The other side gets an email nudge that says only that a message
    is waiting (never its text)."""
    body = body.strip()
    if not body:
        raise ServiceError(_("Write a message first."))
    if len(body) > MESSAGE_MAX_CHARS:
        raise ServiceError(_("Messages can be at most %(n)d characters.") % {"n": MESSAGE_MAX_CHARS})
    from_patient = author.role == Role.PATIENT
    with transaction.atomic():
        message = CareMessage.objects.create(patient=patient, author=author, from_patient=from_patient, body=body)
        audit.record("create", actor=author, record=message, patient=patient, detail={"from_patient": from_patient})
        if from_patient:
            link = settings.SITE_URL + reverse("portal:staff_messages", kwargs={"patient_id": patient.pk})
            team = care_team_users(patient)
            # A live notice on the care team's open pages too (no name, no text: others may see the screen).
            live.notify_users([c.pk for c in team], {"text": _("A patient sent a new message."), "link": link})
            for clinician in team:
                if clinician.email:
                    queue_email(
                        to=clinician.email,
                        subject=_("A new message is waiting in OpenIOP"),
                        body=_("A person in your care sent a message. Sign in to read it:\n%(link)s") % {"link": link},
                        purpose="portal-message",
                        program=patient.program,
                    )
        elif patient.user is not None and patient.user.email:
            prefs = Preferences.objects.filter(user=patient.user).first()
            if prefs is None or prefs.nudge_about_messages:
                link = settings.SITE_URL + reverse("portal:messages")
                with translation.override((prefs.language if prefs else "") or settings.LANGUAGE_CODE):
                    queue_email(
                        to=patient.user.email,
                        subject=_("You have a new message in OpenIOP"),
                        body=_("Your care team sent you a message. Sign in to read it:\n%(link)s") % {"link": link},
                        purpose="portal-message",
                        program=patient.program,
                    )
    return message


def mark_read(*, patient: Patient, reader: User) -> int:
    """Marks the other side's messages read; returns how many."""
    from_patient = reader.role != Role.PATIENT
    with transaction.atomic():
        count = CareMessage.objects.filter(patient=patient, from_patient=from_patient, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        if count:
            audit.record(
                "update", actor=reader, record_type="portal.caremessage", record_id=patient.pk, patient=patient,
                detail={"marked_read": count},
            )  # fmt: skip
    return count


def save_program_page(*, director: User, page: ProgramPage, faq: list[tuple[str, str]]) -> ProgramPage:
    with transaction.atomic():
        page.save()
        page.faq.all().delete()
        FaqEntry.objects.bulk_create(
            FaqEntry(page=page, question=q, answer=a, position=i) for i, (q, a) in enumerate(faq) if q and a
        )
        audit.record("update", actor=director, record=page, detail={"faq_entries": len(faq)})
    return page


def page_for_program(program: Program) -> ProgramPage:
    page = ProgramPage.objects.filter(program=program).first()
    return page if page is not None else ProgramPage(program=program)
