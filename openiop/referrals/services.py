"""Writes for intake: referrals, screening, the recommendation and its
decision, consents (signing and revoking) and enrollment.

Each function runs in one transaction and writes the audit log; email and live
notices leave only after commit. None of the email bodies carry clinical
details."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from openiop.accounts import services as accounts
from openiop.accounts.models import Program, Role, User
from openiop.accounts.services import ServiceError
from openiop.audit import services as audit
from openiop.fhirapi import part2
from openiop.fhirapi.models import ApiClient
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, FamilyAccess, Patient
from openiop.outbox.services import queue_email
from openiop.referrals import level_of_care as loc
from openiop.referrals.consent_texts import TEXTS
from openiop.referrals.models import (
    ConsentDocument,
    ConsentKind,
    Part2Recipient,
    Recommendation,
    Referral,
    ReferralEvent,
    Screening,
    SignedConsent,
    Source,
    Status,
)
from openiop.safety import services as safety
from openiop.safety.models import AlertSource, AlertStatus
from openiop.scheduling.models import Track

__all__ = ["ServiceError"]

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def thresholds() -> loc.Thresholds:
    return loc.Thresholds(
        iop_min_hours_adult=settings.IOP_MIN_HOURS_ADULT,
        iop_min_hours_adolescent=settings.IOP_MIN_HOURS_ADOLESCENT,
        partial_min_hours=settings.PARTIAL_MIN_HOURS,
        min_days_per_week=settings.IOP_MIN_DAYS,
    )


def _new_reference() -> str:
    while True:
        reference = "R-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _i in range(8))
        if not Referral.objects.filter(reference=reference).exists():
            return reference


def _move(referral: Referral, to: str, actor: User | None, note: str = "") -> None:
    """Move a referral on the board; the event says who, when, from and to."""
    ReferralEvent.objects.create(referral=referral, from_status=referral.status, to_status=to, actor=actor, note=note)
    referral.status = to
    referral.status_changed_at = timezone.now()
    referral.save(update_fields=["status", "status_changed_at"])
    audit.record(
        "update", actor=actor, record=referral, program_id=referral.program_id, detail={"status": to, "note": note}
    )


def _intake_coordinators(program_id: int) -> list[User]:
    return list(User.objects.filter(program_id=program_id, role=Role.INTAKE, is_active=True))


def _raise_urgent(referral: Referral, actor: User | None, why: str) -> None:
    """An urgent task: a safety alert (openiop.safety) that reaches the
    program's intake coordinators, live and by an email nudge without clinical
    details, and stays listed until someone takes it; the referral is also
    flagged at the top of the waitlist board until acknowledged."""
    if referral.needs_urgent_attention:
        return
    alert = safety.raise_alert(
        program=referral.program,
        source=AlertSource.REFERRAL,
        summary=f"Referral {referral.reference}: {why}.",
        about=f"{referral.full_name} ({referral.reference})",
        link=reverse("referrals:detail", args=[referral.pk]),
        notify=_intake_coordinators(referral.program_id),
        actor=actor,
    )
    referral.urgent_since = timezone.now()
    referral.urgent_acknowledged_at = None
    referral.safety_alert = alert
    referral.save(update_fields=["urgent_since", "urgent_acknowledged_at", "safety_alert"])
    audit.record(
        "update",
        actor=actor,
        record=referral,
        program_id=referral.program_id,
        detail={"urgent": why, "safety_alert": alert.pk},
        flagged=True,
    )


@dataclass(frozen=True)
class Submitted:
    referral: Referral
    created: bool


REFERRAL_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "preferred_language",
    "concerns",
    "concern_substance_use",
    "concern_mental_health",
    "danger_now",
    "insurance",
    "attendance",
    "availability",
)


def submit_self_referral(program: Program, data: dict[str, Any], *, form_token: str) -> Submitted:
    """A referral from the public form. The form's one-time token is stored
    unique: sending the same form twice finds the first referral."""
    existing = Referral.objects.filter(form_token=form_token).first()
    if existing is not None:
        return Submitted(existing, created=False)
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                program=program,
                reference=_new_reference(),
                source=Source.SELF,
                form_token=form_token,
                **{name: data[name] for name in REFERRAL_FIELDS if name in data},
            )
            ReferralEvent.objects.create(referral=referral, to_status=Status.NEW, note="self-referral")
            audit.record("create", actor=None, record=referral, program_id=program.pk, detail={"source": "self"})
            if referral.danger_now:
                _raise_urgent(referral, None, "said on the public form they are in danger now")
    except IntegrityError:
        # Two copies of one form raced; the other one won.
        return Submitted(Referral.objects.get(form_token=form_token), created=False)
    return Submitted(referral, created=True)


def create_staff_referral(actor: User, data: dict[str, Any]) -> Referral:
    """A referral entered by staff: from a clinician, or a residential program
    stepping someone down (with the discharge date)."""
    source = data["source"]
    if source == Source.STEP_DOWN and not data.get("residential_discharge_date"):
        raise ServiceError(_("A step-down referral needs the residential discharge date."))
    with transaction.atomic():
        referral = Referral.objects.create(
            program_id=actor.program_pk,
            reference=_new_reference(),
            source=source,
            entered_by=actor,
            referrer_name=data.get("referrer_name", ""),
            residential_discharge_date=data.get("residential_discharge_date"),
            **{name: data[name] for name in REFERRAL_FIELDS if name in data},
        )
        ReferralEvent.objects.create(referral=referral, to_status=Status.NEW, actor=actor, note=source)
        audit.record("create", actor=actor, record=referral, detail={"source": source})
        if referral.danger_now:
            _raise_urgent(referral, actor, "referrer said they are in danger now")
    return referral


def referral_after_discharge(patient: Patient, *, days_after: int, actor: User | None) -> Referral:
    """A former patient asked for help at a follow-up check-in: a new referral on the intake board, with what
    we know of them, so the intake coordinator calls them back (the safety alert goes out separately)."""
    with transaction.atomic():
        last = patient.enrollments.select_related("track").order_by("-start_date").first()
        focus = last.track.focus if last is not None else ""
        referral = Referral.objects.create(
            program_id=patient.program_id,
            reference=_new_reference(),
            source=Source.CHECK_IN,
            given_name=patient.given_name,
            family_name=patient.family_name,
            date_of_birth=patient.date_of_birth,
            email=patient.user.email if patient.user is not None else "",
            concerns=_("Asked for help at the %(days)s-day follow-up check-in after discharge (record %(record)s).")
            % {"days": days_after, "record": patient.record_number},
            concern_substance_use=focus in ("substance-use", "co-occurring"),
            concern_mental_health=focus in ("mental-health", "co-occurring"),
            referrer_name=_("Follow-up check-in"),
        )
        ReferralEvent.objects.create(referral=referral, to_status=Status.NEW, actor=actor, note=Source.CHECK_IN)
        audit.record("create", actor=actor, record=referral, patient=patient, detail={"source": Source.CHECK_IN})
    return referral


def acknowledge_urgent(actor: User, referral: Referral) -> None:
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if not referral.needs_urgent_attention:
            return
        referral.urgent_acknowledged_at = timezone.now()
        referral.urgent_acknowledged_by = actor
        referral.save(update_fields=["urgent_acknowledged_at", "urgent_acknowledged_by"])
        audit.record("update", actor=actor, record=referral, detail={"urgent": "acknowledged"})
        alert = referral.safety_alert
        if alert is not None and alert.status == AlertStatus.OPEN:
            safety.acknowledge(actor, alert)


SCREENING_FIELDS = (
    "focus",
    "withdrawal",
    "biomedical",
    "emotional",
    "readiness",
    "relapse",
    "environment",
    "danger_now",
    "hours_per_week",
    "days_per_week",
    "stepping_down",
    "notes",
)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - int((day.month, day.day) < (born.month, born.day))


def record_screening(actor: User | None, referral: Referral, data: dict[str, Any]) -> Recommendation:
    """Save the screening and the rules' recommendation (waiting for a clinician).

    `actor` is None when the person answered the questions online themselves."""
    referral.refresh_from_db()
    if not referral.is_open or referral.status == Status.CONSENTED:
        raise ServiceError(_("This referral is past screening."))
    if actor is None and referral.screenings.exists():
        raise ServiceError(_("We have your answers already; your intake coordinator will go over them with you."))
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        screening = Screening.objects.create(
            referral=referral,
            done_by=actor,
            age=age_on(referral.date_of_birth, timezone.localdate()),
            **{name: data[name] for name in SCREENING_FIELDS if name in data},
        )
        result = loc.recommend(screening.facts(), thresholds())
        # A new screening replaces advice nobody has decided on yet.
        Recommendation.objects.filter(referral=referral, decision=Recommendation.Decision.PENDING).update(
            decision=Recommendation.Decision.SUPERSEDED
        )
        recommendation = Recommendation.objects.create(
            referral=referral,
            screening=screening,
            rules_version=result.rules_version,
            level=result.level,
            track=result.track or "",
            clinical_level=result.clinical_level,
            dose_shortfall=result.dose_shortfall,
            fired=[{"rule": f.rule, "says": f.says, "facts": f.facts} for f in result.fired],
        )
        audit.record("create", actor=actor, record=screening, program_id=referral.program_id)
        audit.record(
            "create",
            actor=actor,
            record=recommendation,
            program_id=referral.program_id,
            detail={"level": result.level, "track": result.track or "", "rules_version": result.rules_version},
        )
        if referral.status == Status.NEW:
            _move(referral, Status.SCREENING, actor)
        _move(referral, Status.RECOMMENDED, actor, note=result.level)
        if result.level == loc.CRISIS_NOW:
            _raise_urgent(referral, actor, "screening recommends crisis care now")
    return recommendation


def decide(
    clinician: User,
    recommendation: Recommendation,
    *,
    confirm: bool,
    level: str = "",
    track: str = "",
    reason: str = "",
) -> Recommendation:
    """A clinician confirms the advice, or overrides it with a reason."""
    if clinician.role not in (Role.CLINICIAN, Role.DIRECTOR):
        raise ServiceError(_("Only a clinician can confirm or override a recommendation."))
    reason = reason.strip()
    if not confirm:
        if level not in loc.LEVELS:
            raise ServiceError(_("Choose the level of care you recommend instead."))
        if level == loc.IOP and track not in loc.TRACKS:
            raise ServiceError(_("Choose the IOP track."))
        if len(reason) < 10:
            raise ServiceError(_("Say why you override the recommendation (at least 10 characters)."))
    with transaction.atomic():
        recommendation = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        if recommendation.decision != Recommendation.Decision.PENDING:
            raise ServiceError(_("This recommendation has been decided already."))
        recommendation.decision = Recommendation.Decision.CONFIRMED if confirm else Recommendation.Decision.OVERRIDDEN
        recommendation.final_level = recommendation.level if confirm else level
        recommendation.final_track = recommendation.track if confirm else (track if level == loc.IOP else "")
        recommendation.override_reason = "" if confirm else reason
        recommendation.decided_by = clinician
        recommendation.decided_at = timezone.now()
        recommendation.save()
        audit.record(
            "update",
            actor=clinician,
            record=recommendation,
            program_id=recommendation.referral.program_id,
            detail={
                "decision": recommendation.decision,
                "level": recommendation.final_level,
                "track": recommendation.final_track,
                "reason": recommendation.override_reason,
            },
        )
    return recommendation


def current_recommendation(referral: Referral) -> Recommendation | None:
    return referral.recommendations.select_related("screening").first()


def is_substance_use(referral: Referral) -> bool:
    recommendation = current_recommendation(referral)
    if recommendation is None:
        return referral.concern_substance_use
    return recommendation.screening.focus in ("substance-use", "co-occurring") or recommendation.final_track in (
        loc.TRACK_SUBSTANCE_USE,
        loc.TRACK_CO_OCCURRING,
    )


def required_kinds(referral: Referral) -> list[str]:
    kinds: list[str] = [ConsentKind.TREATMENT, ConsentKind.TELEHEALTH]
    if is_substance_use(referral):
        kinds.append(ConsentKind.PART2)
    return kinds


def current_document(kind: str) -> ConsentDocument:
    """The newest version of a consent; version 1 comes from consent_texts."""
    document = ConsentDocument.objects.filter(kind=kind).order_by("-version").first()
    if document is None:
        title, body = TEXTS[kind]
        document, _created = ConsentDocument.objects.get_or_create(
            kind=kind, version=1, defaults={"title": title, "body": body}
        )
    return document


@dataclass(frozen=True)
class ConsentLink:
    url: str


def send_consent_link(actor: User, referral: Referral) -> ConsentLink:
    """Email the person a one-time link to read and sign their consents."""
    referral.refresh_from_db()
    recommendation = current_recommendation(referral)
    if referral.status != Status.RECOMMENDED or recommendation is None:
        raise ServiceError(_("Screen the person first."))
    if recommendation.decision == Recommendation.Decision.PENDING:
        raise ServiceError(_("A clinician must confirm or override the recommendation first."))
    if recommendation.final_level != loc.IOP:
        raise ServiceError(_("Consents for this program are for people recommended for IOP."))
    if not referral.email:
        raise ServiceError(_("Add an email address to send the consent link."))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        referral.consent_token_hash = accounts.token_hash(token)
        referral.consent_token_expires_at = timezone.now() + timedelta(days=settings.CONSENT_LINK_DAYS)
        referral.save(update_fields=["consent_token_hash", "consent_token_expires_at"])
        audit.record("update", actor=actor, record=referral, detail={"consent_link": "sent"})
        url = settings.SITE_URL + reverse("referrals:consent", args=[token])
        queue_email(
            to=referral.email,
            subject=_("Your consent forms from %(program)s") % {"program": referral.program.name},
            body=_(
                "Hello %(name)s,\n\nPlease read and sign your consent forms here (the link works for %(days)s days):"
                "\n\n%(url)s\n\nYour reference number is %(ref)s."
            )
            % {"name": referral.given_name, "days": settings.CONSENT_LINK_DAYS, "url": url, "ref": referral.reference},
            purpose="consent-link",
            program=referral.program,
        )
    return ConsentLink(url=url)


def referral_for_consent_token(token: str) -> Referral | None:
    if not token:
        return None
    referral = Referral.objects.filter(consent_token_hash=accounts.token_hash(token)).select_related("program").first()
    if referral is None or referral.status != Status.RECOMMENDED:
        return None
    if referral.consent_token_expires_at is None or referral.consent_token_expires_at <= timezone.now():
        return None
    return referral


EXPIRY_WORDS = {
    SignedConsent.Expiry.END_OF_TREATMENT: "at the end of my treatment",
    SignedConsent.Expiry.NONE: "never, unless I revoke it",
}


@dataclass(frozen=True)
class FamilyChoice:
    given_name: str
    family_name: str
    email: str
    relationship: str
    may_see_family_sessions: bool
    may_see_progress_summary: bool


def part2_recipient_choices(referral: Referral) -> list[ApiClient]:
    """The program's integrations the person may name on their Part 2 consent (fhirapi.part2)."""
    return list(part2.offered_recipients(referral.program_id))


def chosen_part2_recipients(referral: Referral, client_ids: Sequence[int]) -> list[ApiClient]:
    """The integrations with these ids, if every one is offered to this person; else a ServiceError."""
    wanted = set(client_ids)
    if not wanted:
        return []
    if not is_substance_use(referral):
        raise ServiceError(_("Only a consent to share substance use records names organizations."))
    chosen = [client for client in part2_recipient_choices(referral) if client.pk in wanted]
    if len(chosen) != len(wanted):
        raise ServiceError(_("An organization you chose can no longer receive records. Please choose again."))
    return chosen


def part2_recipient_words(program: str, recipients: Sequence[ApiClient]) -> str:
    """ "With whom" on the Part 2 consent: the care team (and insurer), then each organization the person
    named, with the purposes it receives records for."""
    words = f"my care team at {program} and my health insurer"
    if recipients:
        named = "; ".join(f"{client.recipient_name} (for {client.purpose_words})" for client in recipients)
        words += f"; and also, only for the purposes shown: {named}"
    return words


def consent_terms(
    referral: Referral,
    kind: str,
    family: FamilyChoice | None = None,
    part2_recipients: Sequence[ApiClient] = (),
) -> dict[str, str]:
    """The values filled into a consent's text for this person. `part2_recipients` are the integrations
    they chose to name on the Part 2 consent (from `chosen_part2_recipients`, in that order)."""
    program = referral.program.name
    terms = {
        "patient": referral.full_name,
        "program": program,
        "expiry": EXPIRY_WORDS[SignedConsent.Expiry.END_OF_TREATMENT],
        "information": "",
        "recipient": "",
        "purpose": "",
    }
    if kind == ConsentKind.PART2:
        terms |= {
            "information": "my substance use diagnosis, treatment plan, attendance and progress",
            "recipient": part2_recipient_words(program, part2_recipients),
            "purpose": "treatment, payment and health care operations",
        }
    elif kind == ConsentKind.COUNSELING_NOTES:
        terms |= {
            "information": "substance use counseling notes",
            "recipient": f"my care team at {program}",
            "purpose": "coordinating my treatment",
        }
    elif kind == ConsentKind.FAMILY_ACCESS and family is not None:
        scope = []
        if family.may_see_family_sessions:
            scope.append("the schedule of family sessions")
        if family.may_see_progress_summary:
            scope.append("a short summary of my progress")
        terms |= {
            "family_member": f"{family.given_name} {family.family_name}",
            "relationship": family.relationship,
            "family_scope": " and ".join(scope) or "nothing yet",
            "information": " and ".join(scope),
            "recipient": f"{family.given_name} {family.family_name}",
            "purpose": "family involvement in my care",
        }
    return terms


def shown_text(document: ConsentDocument, terms: dict[str, str]) -> str:
    return document.body.format(**terms)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sign_consents(
    token: str,
    *,
    typed_name: str,
    shown_hashes: dict[str, str],
    counseling_notes: bool,
    family: FamilyChoice | None,
    client_address: str,
    part2_recipients: Sequence[int] = (),
) -> list[SignedConsent]:
    """The person signs what they were shown. `shown_hashes` are the hashes of
    the texts on their page; if the wording changed meanwhile, they must read
    it again. `part2_recipients` are the ids of the integrations they name on
    the Part 2 consent; the signed text names them, and so do Part2Recipient rows."""
    typed_name = " ".join(typed_name.split())
    with transaction.atomic():
        referral = referral_for_consent_token(token)
        if referral is None:
            raise ServiceError(_("This consent link has expired or was already used."))
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if typed_name.casefold() != " ".join(referral.full_name.split()).casefold():
            raise ServiceError(_("Type your full name exactly as shown: %(name)s") % {"name": referral.full_name})
        kinds = required_kinds(referral)
        if counseling_notes and is_substance_use(referral):
            kinds.append(ConsentKind.COUNSELING_NOTES)
        if family is not None:
            kinds.append(ConsentKind.FAMILY_ACCESS)
        recipients = chosen_part2_recipients(referral, part2_recipients)
        signed = []
        for kind in kinds:
            document = current_document(kind)
            terms = consent_terms(referral, kind, family, recipients)
            text = shown_text(document, terms)
            if shown_hashes.get(kind) != text_hash(text):
                if kind == ConsentKind.FAMILY_ACCESS:
                    raise ServiceError(
                        _("Read the family access consent below, filled in with your choices, then sign again.")
                    )
                if kind == ConsentKind.PART2:
                    raise ServiceError(
                        _(
                            "Read the consent to share substance use records below, filled in with the "
                            "organizations you chose, then sign again."
                        )
                    )
                raise ServiceError(_("A consent's wording changed while you were reading. Please read it again."))
            consent = SignedConsent.objects.create(
                referral=referral,
                document=document,
                typed_name=typed_name,
                client_address=client_address,
                text_sha256=text_hash(text),
                shown_text=text,
                disclosing_party=terms["program"],
                recipient=terms["recipient"],
                information=terms["information"],
                purpose=terms["purpose"],
                **(
                    {
                        "family_given_name": family.given_name,
                        "family_family_name": family.family_name,
                        "family_email": family.email,
                        "family_relationship": family.relationship,
                        "may_see_family_sessions": family.may_see_family_sessions,
                        "may_see_progress_summary": family.may_see_progress_summary,
                    }
                    if kind == ConsentKind.FAMILY_ACCESS and family is not None
                    else {}
                ),
            )
            named = []
            if kind == ConsentKind.PART2:
                for client in recipients:
                    Part2Recipient.objects.create(
                        consent=consent, client=client, name=client.recipient_name, purposes=list(client.purposes)
                    )
                    named.append(client.recipient_name)
            audit.record(
                "create",
                actor=None,
                record=consent,
                program_id=referral.program_id,
                detail={"kind": kind, "version": document.version, "sha256": consent.text_sha256}
                | ({"recipients": named} if named else {}),
            )
            signed.append(consent)
        referral.consent_token_hash = ""
        referral.consent_token_expires_at = None
        referral.save(update_fields=["consent_token_hash", "consent_token_expires_at"])
        _move(referral, Status.CONSENTED, None, note="signed by the person")
    return signed


def revoke_consent(actor: User, consent: SignedConsent, reason: str) -> SignedConsent:
    """Revocation in writing: effective at once (a family grant made from it
    ends in the same transaction)."""
    reason = reason.strip()
    if len(reason) < 3:
        raise ServiceError(_("Say in a few words why you revoke this consent."))
    with transaction.atomic():
        consent = SignedConsent.objects.select_for_update().select_related("document").get(pk=consent.pk)
        if consent.status != SignedConsent.Status.ACTIVE:
            raise ServiceError(_("This consent is not active."))
        now = timezone.now()
        consent.status = SignedConsent.Status.INACTIVE
        consent.revoked_at = now
        consent.revoked_by = actor
        consent.revocation_reason = reason
        consent.save(update_fields=["status", "revoked_at", "revoked_by", "revocation_reason"])
        ended = FamilyAccess.objects.filter(consent=consent, status=FamilyAccess.Status.ACTIVE).update(
            status=FamilyAccess.Status.REVOKED, revoked_at=now
        )
        audit.record(
            "update",
            actor=actor,
            record=consent,
            patient=consent.patient,
            program_id=consent.referral.program_id,
            detail={"revoked": consent.document.kind, "reason": reason, "family_grants_ended": ended},
        )
    return consent


def start_date_for(referral: Referral, requested: date | None) -> date:
    """A step-down starts on the Monday of the week after residential discharge."""
    if referral.source == Source.STEP_DOWN and referral.residential_discharge_date:
        discharge = referral.residential_discharge_date
        return discharge + timedelta(days=7 - discharge.weekday())
    return requested or timezone.localdate()


def _username_for(given: str, family: str) -> str:
    base = slugify(f"{given}.{family}").replace("-", ".")[:120] or "patient"
    base = re.sub(r"[^a-z0-9.]", "", base) or "patient"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _next_record_number(program_id: int) -> str:
    count = Patient.objects.filter(program_id=program_id).count()
    while True:
        count += 1
        number = f"P-{count:05d}"
        if not Patient.objects.filter(program_id=program_id, record_number=number).exists():
            return number


@dataclass(frozen=True)
class Enrolled:
    patient: Patient
    enrollment: Enrollment
    invitation_url: str
    family_invitation_urls: list[str]


def enroll(
    actor: User,
    referral: Referral,
    *,
    track: Track,
    start_date: date | None,
    emergency_contact_name: str,
    emergency_contact_phone: str,
    emergency_contact_relationship: str,
    primary_clinician: User | None = None,
) -> Enrolled:
    """Make the patient record, their account (invitation email), the
    enrollment, and family members' accounts and grants from their consents."""
    referral.refresh_from_db()
    if referral.status != Status.CONSENTED:
        raise ServiceError(_("The person has not signed their consents yet."))
    if track.program_id != referral.program_id:
        raise ServiceError(_("Choose one of this program's tracks."))
    if not referral.email:
        raise ServiceError(_("Add an email address first: the account invitation goes by email."))
    if primary_clinician is not None and (
        primary_clinician.role != Role.CLINICIAN or primary_clinician.program_id != referral.program_id
    ):
        raise ServiceError(_("Choose a clinician of this program."))
    recommendation = current_recommendation(referral)
    start = start_date_for(referral, start_date)
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if referral.patient_id is not None:
            raise ServiceError(_("This person is enrolled already."))
        user = accounts._new_account(
            _username_for(referral.given_name, referral.family_name),
            referral.email,
            referral.given_name,
            referral.family_name,
            Role.PATIENT,
            referral.program,
        )
        audit.record("create", actor=actor, record=user, detail={"role": Role.PATIENT})
        patient = Patient.objects.create(
            program=referral.program,
            record_number=_next_record_number(referral.program_id),
            given_name=referral.given_name,
            family_name=referral.family_name,
            date_of_birth=referral.date_of_birth,
            user=user,
            emergency_contact_name=emergency_contact_name,
            emergency_contact_phone=emergency_contact_phone,
            emergency_contact_relationship=emergency_contact_relationship,
        )
        audit.record("create", actor=actor, record=patient, patient=patient, detail={"referral": referral.reference})
        enrollment = Enrollment.objects.create(
            patient=patient,
            track=track,
            status=EnrollmentStatus.PLANNED if start > timezone.localdate() else EnrollmentStatus.ACTIVE,
            start_date=start,
            planned_end_date=start + timedelta(weeks=settings.ENROLLMENT_WEEKS),
            level_of_care=recommendation.final_level if recommendation and recommendation.final_level else loc.IOP,
        )
        audit.record("create", actor=actor, record=enrollment, patient=patient, detail={"track": track.slug})
        if primary_clinician is not None:
            member = CareTeamMember.objects.create(
                patient=patient, clinician=primary_clinician, is_primary=True, since=start
            )
            audit.record("create", actor=actor, record=member, patient=patient)
        referral.consents.update(patient=patient)
        referral.patient = patient
        referral.save(update_fields=["patient"])
        invitation = accounts.issue_invitation(actor, user)
        family_urls = []
        for consent in referral.consents.filter(
            document__kind=ConsentKind.FAMILY_ACCESS, status=SignedConsent.Status.ACTIVE
        ):
            family_urls.append(_grant_family_access(actor, patient, consent))
        _move(referral, Status.ENROLLED, actor, note=track.slug)
    return Enrolled(patient, enrollment, invitation.url, family_urls)


def _grant_family_access(actor: User, patient: Patient, consent: SignedConsent) -> str:
    member = User.objects.filter(
        email__iexact=consent.family_email, role=Role.FAMILY, program_id=patient.program_id
    ).first()
    url = ""
    if member is None:
        member = accounts._new_account(
            _username_for(consent.family_given_name, consent.family_family_name),
            consent.family_email,
            consent.family_given_name,
            consent.family_family_name,
            Role.FAMILY,
            patient.program,
        )
        audit.record("create", actor=actor, record=member, detail={"role": Role.FAMILY})
        url = accounts.issue_invitation(actor, member).url
    grant = FamilyAccess.objects.create(
        patient=patient,
        family_member=member,
        relationship=consent.family_relationship,
        may_see_family_sessions=consent.may_see_family_sessions,
        may_see_progress_summary=consent.may_see_progress_summary,
        consent=consent,
    )
    audit.record("create", actor=actor, record=grant, patient=patient, detail={"consent": consent.pk})
    return url


CLOSING = (Status.REFERRED_ELSEWHERE, Status.DECLINED, Status.NO_RESPONSE)


def close_referral(actor: User, referral: Referral, *, status: str, note: str) -> None:
    if status not in CLOSING:
        raise ServiceError(_("Choose how the referral ends."))
    referral.refresh_from_db()
    if not referral.is_open:
        raise ServiceError(_("This referral is closed already."))
    with transaction.atomic():
        _move(referral, status, actor, note=note.strip()[:500])
