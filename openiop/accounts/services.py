"""Writes about people: invitations, two-factor enrolment, break-glass.

Each function runs in one transaction and writes the audit log; side effects
(email, live notifications) leave only once the transaction has committed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.models import STAFF_ROLES, BreakGlassGrant, Invitation, Program, Role, User
from openiop.audit import services as audit
from openiop.core import live
from openiop.core.errors import ServiceError as ServiceError  # re-exported: views catch it from here
from openiop.intake.models import Patient
from openiop.outbox.services import queue_email


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    url: str


def invite_staff(
    director: User, *, username: str, first_name: str, last_name: str, email: str, role: str
) -> IssuedInvitation:
    """Create a staff account in the director's program and email a link to set
    its password. The account has no usable password until then."""
    if role not in STAFF_ROLES:
        raise ServiceError(_("Only staff can be invited from this page."))
    with transaction.atomic():
        person = _new_account(username, email, first_name, last_name, role, director.program)
        audit.record("create", actor=director, record=person, detail={"role": role})
        return issue_invitation(director, person)


def _new_account(
    username: str, email: str, first_name: str, last_name: str, role: str, program: Program | None
) -> User:
    """An account without a usable password: its owner sets one from an invitation."""
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(_("That username is taken."))
    return User.objects.create(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
        program=program,
        password=make_password(None),
    )


def create_program(*, name: str, slug: str, director_username: str, director_email: str, first_name: str = "",
                   last_name: str = "") -> IssuedInvitation:  # fmt: skip
    """A new program and its first director, who gets a link to set a password.

    How a clinic starts on a fresh installation (`manage.py create_program`)."""
    with transaction.atomic():
        if Program.objects.filter(slug=slug).exists():
            raise ServiceError(_("A program with the short name %(slug)r exists already.") % {"slug": slug})
        program = Program.objects.create(name=name, slug=slug)
        director = _new_account(director_username, director_email, first_name, last_name, Role.DIRECTOR, program)
        audit.record("create", actor=None, record=program, program_id=program.pk, detail={"director": director.pk})
        return issue_invitation(None, director)


def issue_invitation(created_by: User | None, person: User) -> IssuedInvitation:
    """A fresh one-time link for `person`; earlier unused links stop working."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        Invitation.objects.filter(user=person, used_at__isnull=True).update(expires_at=timezone.now())
        invitation = Invitation.objects.create(
            user=person,
            token_hash=token_hash(token),
            created_by=created_by,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
        )
        audit.record(
            "create", actor=created_by, record=invitation, program_id=person.program_id, detail={"for_user": person.pk}
        )
        url = settings.SITE_URL + reverse("accounts:accept_invitation", args=[token])
        if person.email:
            body = render_to_string(
                "accounts/email/invitation.txt",
                {"person": person, "url": url, "days": settings.INVITATION_DAYS, "program": person.program},
            )
            queue_email(
                to=person.email,
                subject=_("Your OpenIOP account"),
                body=body,
                purpose="invitation",
                program=person.program,
            )
    return IssuedInvitation(invitation=invitation, url=url)


def usable_invitation(token: str) -> Invitation | None:
    invitation = Invitation.objects.filter(token_hash=token_hash(token)).select_related("user").first()
    if invitation is None or not invitation.is_usable():
        return None
    return invitation


def accept_invitation(token: str, password: str) -> User:
    """Set the invited person's password; the link then stops working."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token_hash=token_hash(token)).select_related("user").first()
        )
        if invitation is None or not invitation.is_usable():
            raise ServiceError(_("This invitation link has expired or was already used."))
        person = invitation.user
        person.set_password(password)
        person.save(update_fields=["password"])
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        audit.record("update", actor=person, record=invitation, detail={"accepted": True})
    return person


def start_totp_enrolment(user: User, pending_device_id: object) -> TOTPDevice:
    """The authenticator this session is setting up.

    Each session gets its own secret (reused on reload, by the id the caller
    keeps in the session), so a second session signed in with the same
    password never sees the secret the person is scanning."""
    with transaction.atomic():
        device = None
        if isinstance(pending_device_id, int):
            device = TOTPDevice.objects.filter(pk=pending_device_id, user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def confirm_totp_enrolment(request_user: User, device: TOTPDevice, code: str, request: object) -> bool:
    """Confirm the authenticator if `code` matches; mark this session verified."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if device.confirmed or not device.verify_token(code):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Secrets other sessions were shown are worthless from now on.
        TOTPDevice.objects.filter(user=request_user, confirmed=False).delete()
        audit.record("update", actor=request_user, record=request_user, detail={"two_factor": "enrolled"})
    otp_login(request, device)
    return True


def grant_break_glass(clinician: User, patient: Patient, reason: str) -> BreakGlassGrant:
    """Emergency access to one record outside the clinician's caseload.

    Logged as a flagged audit entry; the director sees it on their overview
    (and live, if they have it open) until they review it."""
    reason = reason.strip()
    if clinician.role != Role.CLINICIAN or patient.program_id != clinician.program_id:
        raise ServiceError(_("Break-glass access is for clinicians in this patient's program."))
    if len(reason) < 10:
        raise ServiceError(_("Say why you need this record (at least 10 characters)."))
    with transaction.atomic():
        grant = BreakGlassGrant.objects.create(
            clinician=clinician,
            patient=patient,
            reason=reason,
            expires_at=timezone.now() + timedelta(minutes=settings.BREAK_GLASS_MINUTES),
        )
        audit.record(
            "break-glass",
            actor=clinician,
            record=grant,
            patient=patient,
            detail={"reason": reason, "minutes": settings.BREAK_GLASS_MINUTES},
            flagged=True,
        )
        live.notify_program_directors(
            patient.program_id,
            {
                "kind": "break-glass",
                "text": _("%(who)s used break-glass access to record %(record)s.")
                % {"who": clinician.display_name, "record": patient.record_number},
            },
        )
    return grant


def review_break_glass(director: User, grant: BreakGlassGrant) -> None:
    with transaction.atomic():
        grant = BreakGlassGrant.objects.select_for_update().get(pk=grant.pk)
        if grant.reviewed_at is not None:
            return
        grant.reviewed_by = director
        grant.reviewed_at = timezone.now()
        grant.save(update_fields=["reviewed_by", "reviewed_at"])
        audit.record("update", actor=director, record=grant, patient=grant.patient, detail={"reviewed": True})


def resend_invitation(director: User, person: User) -> IssuedInvitation:
    if person.has_usable_password():
        raise ServiceError(_("%(name)s has already set a password.") % {"name": person.display_name})
    return issue_invitation(director, person)


def reset_two_factor(director: User, person: User) -> None:
    """For a lost phone: the person enrols a new authenticator at next sign-in."""
    with transaction.atomic():
        removed, _counts = TOTPDevice.objects.filter(user=person).delete()
        audit.record("update", actor=director, record=person, detail={"two_factor": "reset", "devices": removed})


def set_active(director: User, person: User, *, active: bool) -> None:
    """Deactivate someone who left (they can no longer sign in), or bring them back."""
    if person.pk == director.pk:
        raise ServiceError(_("You cannot deactivate your own account."))
    with transaction.atomic():
        person.is_active = active
        person.save(update_fields=["is_active"])
        audit.record("update", actor=director, record=person, detail={"active": active})


def record_password_change(person: User, *, how: str = "changed") -> None:
    audit.record("update", actor=person, record=person, detail={"password": how})
