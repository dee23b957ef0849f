"""Who may see which patient: the access rules, in one place.

Every view that touches a patient's record gets it from a function here. Each
function returns the record or raises Http404 -- the same answer for "does
not exist" and "not yours" -- and writes the read to the audit log, so no view
can forget to.

Minimum necessary, by role:
- patient: only their own record;
- family member: only what an active FamilyAccess grant from that patient allows;
- clinician: patients on their caseload (care team) or in a group they facilitate,
  plus any patient they opened by break-glass while the grant lasts;
- intake coordinator: people in their program on the way in (no enrollment yet,
  or one that is planned / on the waiting list);
- program director: every patient in their program.
Nobody sees anything outside their own program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from openiop.accounts.models import STAFF_ROLES, BreakGlassGrant, Role, User
from openiop.audit import services as audit
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, FamilyAccess, Patient
from openiop.referrals.models import ConsentKind, Referral, SignedConsent
from openiop.rooms.models import Attendance
from openiop.safety.models import SafetyAlert
from openiop.scheduling.models import GroupMembership, SchedulePlan, Session, SessionStatus
from openiop.treatment.models import CheckIn, CounselingNotesConsent, DischargeSummary, Note, NoteStatus, TreatmentPlan
from openiop.treatment.models import Goal as TreatmentGoal

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

INTAKE_STATUSES = (EnrollmentStatus.PLANNED, EnrollmentStatus.WAITLIST)


def _acting_user(user: User | AnonymousUser) -> User | None:
    if not user.is_authenticated or not user.is_active:
        return None
    assert isinstance(user, User)
    return user


def patients_in_care_of(user: User | AnonymousUser) -> QuerySet[Patient]:
    """The patients whose chart `user` may open in their ordinary work
    (break-glass grants are not included; see patient_for_user)."""
    person = _acting_user(user)
    if person is None:
        return Patient.objects.none()
    if person.role == Role.PATIENT:
        return Patient.objects.filter(user=person)
    if person.program_id is None or person.role == Role.FAMILY:
        return Patient.objects.none()
    in_program = Patient.objects.filter(program_id=person.program_id)
    if person.role == Role.DIRECTOR:
        return in_program
    if person.role == Role.CLINICIAN:
        on_caseload = Exists(CareTeamMember.objects.filter(patient=OuterRef("pk"), clinician=person))
        in_their_group = Exists(
            GroupMembership.objects.filter(patient=OuterRef("pk"), end_date__isnull=True, group__facilitators=person)
        )
        return in_program.filter(on_caseload | in_their_group)
    if person.role == Role.INTAKE:
        has_enrollment = Exists(Enrollment.objects.filter(patient=OuterRef("pk")))
        coming_in = Exists(Enrollment.objects.filter(patient=OuterRef("pk"), status__in=INTAKE_STATUSES))
        return in_program.filter(~has_enrollment | coming_in)
    return Patient.objects.none()


def active_break_glass(user: User, patient: Patient) -> BreakGlassGrant | None:
    return (
        BreakGlassGrant.objects.filter(clinician=user, patient=patient, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def patient_for_user(request: HttpRequest, patient_id: int, *, purpose: str = "chart") -> Patient:
    """The patient's record if `request.user` may read it; else Http404.

    Writes a "read" audit entry naming the purpose (the page or export).
    A read that relies on a break-glass grant is flagged for the director."""
    person = _acting_user(request.user)
    if person is None:
        raise Http404
    patient = patients_in_care_of(person).filter(pk=patient_id).select_related("program").first()
    grant = None
    if patient is None and person.role == Role.CLINICIAN:
        candidate = Patient.objects.filter(pk=patient_id, program_id=person.program_pk).first()
        if candidate is not None:
            grant = active_break_glass(person, candidate)
            patient = candidate if grant is not None else None
    if patient is None:
        raise Http404
    detail: dict[str, str | int] = {"purpose": purpose}
    if grant is not None:
        detail["break_glass_grant"] = grant.pk
    audit.record("read", actor=person, record=patient, patient=patient, detail=detail, flagged=grant is not None)
    return patient


def patient_by_record_number_for_break_glass(user: User, record_number: str) -> Patient | None:
    """The patient a clinician names for break-glass access, in their own program."""
    if user.role != Role.CLINICIAN or user.program_id is None:
        return None
    return Patient.objects.filter(program_id=user.program_pk, record_number=record_number.strip()).first()


@dataclass(frozen=True)
class FamilyView:
    """What one family member may see of one patient."""

    patient: Patient
    grant: FamilyAccess


# A grant made from a signed consent lasts only while that consent is active:
# a revocation takes effect on the very next request.
_CONSENT_IN_FORCE = Q(consent__isnull=True) | Q(consent__status="active")


def family_view_for_user(request: HttpRequest, patient_id: int) -> FamilyView:
    """The consented view of a patient for a family member; else Http404."""
    person = _acting_user(request.user)
    if person is None or person.role != Role.FAMILY:
        raise Http404
    grant = (
        FamilyAccess.objects.filter(patient_id=patient_id, family_member=person, status=FamilyAccess.Status.ACTIVE)
        .filter(_CONSENT_IN_FORCE)
        .select_related("patient", "patient__program")
        .first()
    )
    if grant is None:
        raise Http404
    audit.record(
        "read",
        actor=person,
        record=grant,
        patient=grant.patient,
        detail={
            "purpose": "family-view",
            "family_sessions": grant.may_see_family_sessions,
            "progress_summary": grant.may_see_progress_summary,
        },
    )
    return FamilyView(patient=grant.patient, grant=grant)


def families_of(user: User) -> QuerySet[FamilyAccess]:
    return (
        FamilyAccess.objects.filter(family_member=user, status=FamilyAccess.Status.ACTIVE)
        .filter(_CONSENT_IN_FORCE)
        .select_related("patient")
    )


def break_glass_grant_for_director(request: HttpRequest, grant_id: int) -> BreakGlassGrant:
    person = _acting_user(request.user)
    if person is None or person.role != Role.DIRECTOR:
        raise Http404
    grant = (
        BreakGlassGrant.objects.filter(pk=grant_id, patient__program_id=person.program_pk)
        .select_related("patient", "clinician")
        .first()
    )
    if grant is None:
        raise Http404
    return grant


def staff_member_for_director(request: HttpRequest, person_id: int) -> User:
    """A staff member of the director's own program; else Http404."""
    person = _acting_user(request.user)
    if person is None or person.role != Role.DIRECTOR:
        raise Http404
    member = User.objects.filter(pk=person_id, program_id=person.program_pk, role__in=STAFF_ROLES).first()
    if member is None:
        raise Http404
    return member


@dataclass(frozen=True)
class RoomPass:
    """Why one person may enter one session's room: as its clinician, as a patient on it, or as a
    family member invited with the patient's consent (then `patient` is the patient they accompany)."""

    session: Session
    role: str  # "clinician", "patient" or "family"
    patient: Patient | None


def room_pass_for(user: User | AnonymousUser, session_id: int) -> RoomPass | None:
    """The pass into a session's room, or None. Only the session's clinicians, its patients, and a family
    member on `family_guests` whose grant from one of its patients is active and covers family sessions.
    Nobody else -- not even the director -- and nothing outside the person's program. Not audited: callers
    are `session_room_for_user` (pages) and the room's WebSocket, which audit the entry themselves."""
    person = _acting_user(user)
    if person is None or person.program_id is None:
        return None
    session = (
        Session.objects.filter(pk=session_id, program_id=person.program_id)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("program")
        .first()
    )
    if session is None:
        return None
    if person.role == Role.CLINICIAN and session.clinicians.filter(pk=person.pk).exists():
        return RoomPass(session, "clinician", None)
    if person.role == Role.PATIENT:
        patient = Patient.objects.filter(user=person, session_attendances__session=session).first()
        return RoomPass(session, "patient", patient) if patient is not None else None
    if person.role == Role.FAMILY and session.kind == "family" and session.family_guests.filter(pk=person.pk).exists():
        grant = (
            FamilyAccess.objects.filter(
                family_member=person,
                status=FamilyAccess.Status.ACTIVE,
                may_see_family_sessions=True,
                patient__session_attendances__session=session,
            )
            .filter(_CONSENT_IN_FORCE)
            .select_related("patient")
            .first()
        )
        return RoomPass(session, "family", grant.patient) if grant is not None else None
    return None


def session_room_for_user(request: HttpRequest, session_id: int, *, purpose: str = "room") -> RoomPass:
    """The pass into a session's room for a page; else Http404 (the same for "no such session").
    Writes a "read" audit entry: entering a room is a read of the session (and of the patient's place in it)."""
    room_pass = room_pass_for(request.user, session_id)
    if room_pass is None:
        raise Http404
    person = _acting_user(request.user)
    patient = room_pass.patient
    if patient is None and room_pass.session.kind != "group":
        # An individual or family session is about its one patient: the clinician's entry names them.
        patient = Patient.objects.filter(session_attendances__session=room_pass.session).first()
    audit.record(
        "read",
        actor=person,
        record=room_pass.session,
        patient=patient,
        program_id=room_pass.session.program_id,
        detail={"purpose": purpose, "as": room_pass.role},
    )
    return room_pass


def sessions_for(user: User) -> QuerySet[Session]:
    """Sessions whose room `user` may enter (the same rules as room_pass_for), for list pages."""
    if user.program_id is None:
        return Session.objects.none()
    in_program = Session.objects.filter(program_id=user.program_id).exclude(status=SessionStatus.CANCELLED)
    if user.role == Role.CLINICIAN:
        return in_program.filter(clinicians=user)
    if user.role == Role.PATIENT:
        return in_program.filter(attendees__patient__user=user)
    if user.role == Role.FAMILY:
        consented = FamilyAccess.objects.filter(
            family_member=user,
            status=FamilyAccess.Status.ACTIVE,
            may_see_family_sessions=True,
            patient__session_attendances__session=OuterRef("pk"),
        ).filter(_CONSENT_IN_FORCE)
        return in_program.filter(kind="family", family_guests=user).filter(Exists(consented))
    return Session.objects.none()


def attendance_for_clinician(request: HttpRequest, attendance_id: int) -> Attendance:
    """An attendance row of a session this clinician leads (for a correction); else Http404. Audited."""
    person = _acting_user(request.user)
    if person is None or person.role != Role.CLINICIAN:
        raise Http404
    row = (
        Attendance.objects.filter(pk=attendance_id, session__clinicians=person, session__program_id=person.program_pk)
        .select_related("session", "patient")
        .first()
    )
    if row is None:
        raise Http404
    audit.record("read", actor=person, record=row, patient=row.patient, detail={"purpose": "attendance-correction"})
    return row


REFERRAL_ROLES = (Role.DIRECTOR, Role.INTAKE, Role.CLINICIAN)


def referrals_for(user: User | AnonymousUser) -> QuerySet[Referral]:
    """Referrals a staff member may work on: their own program's (intake
    coordinators run them, clinicians confirm recommendations, directors oversee)."""
    person = _acting_user(user)
    if person is None or person.role not in REFERRAL_ROLES or person.program_id is None:
        return Referral.objects.none()
    return Referral.objects.filter(program_id=person.program_id)


def referral_for_user(request: HttpRequest, referral_id: int, *, purpose: str = "referral") -> Referral:
    """A referral in the staff member's program; else Http404. Audited as a read."""
    person = _acting_user(request.user)
    referral = referrals_for(request.user).filter(pk=referral_id).select_related("program", "patient").first()
    if person is None or referral is None:
        raise Http404
    audit.record(
        "read",
        actor=person,
        record=referral,
        patient=referral.patient,
        program_id=referral.program_id,
        detail={"purpose": purpose},
    )
    return referral


def consent_for_user(request: HttpRequest, consent_id: int) -> SignedConsent:
    """A signed consent the person may revoke: the patient's own, or one in a
    staff member's program (director or intake coordinator); else Http404."""
    person = _acting_user(request.user)
    if person is None:
        raise Http404
    consents = SignedConsent.objects.select_related("document", "referral", "patient")
    if person.role == Role.PATIENT:
        consent = consents.filter(pk=consent_id, patient__user=person).first()
    elif person.role in (Role.DIRECTOR, Role.INTAKE):
        consent = consents.filter(pk=consent_id, referral__program_id=person.program_pk).first()
    else:
        consent = None
    if consent is None:
        raise Http404
    audit.record(
        "read",
        actor=person,
        record=consent,
        patient=consent.patient,
        program_id=consent.referral.program_id,
        detail={"purpose": "consent"},
    )
    return consent


def safety_alerts_for(user: User | AnonymousUser) -> QuerySet[SafetyAlert]:
    """The safety alerts a staff member sees: a director all of the program's; others those sent to them
    or about a patient in their care."""
    person = _acting_user(user)
    if person is None or person.role not in STAFF_ROLES or person.program_id is None:
        return SafetyAlert.objects.none()
    alerts = SafetyAlert.objects.filter(program_id=person.program_pk)
    if person.role == Role.DIRECTOR:
        return alerts
    in_care = patients_in_care_of(person).values("pk")
    return alerts.filter(Q(notified=person) | Q(patient__in=in_care)).distinct()


def safety_alert_for_user(request: HttpRequest, alert_id: int) -> SafetyAlert:
    """One alert the person may see; else Http404. Opening one about a patient is a read of that patient."""
    alert = safety_alerts_for(request.user).filter(pk=alert_id).select_related("patient").first()
    if alert is None:
        raise Http404
    if alert.patient is not None:
        audit.record(
            "read",
            actor=_acting_user(request.user),
            record=alert.patient,
            patient=alert.patient,
            detail={"purpose": "safety-alert", "alert": alert.pk},
        )
    return alert


def schedule_plan_for_director(request: HttpRequest, plan_id: int) -> SchedulePlan:
    """A weekly schedule plan of the director's own program; else Http404. Plans list every patient of the
    week, so only the director (who sees every patient in the program) opens them."""
    person = _acting_user(request.user)
    if person is None or person.role != Role.DIRECTOR:
        raise Http404
    plan = SchedulePlan.objects.filter(pk=plan_id, program_id=person.program_pk).first()
    if plan is None:
        raise Http404
    return plan


def clinician_for_director(request: HttpRequest, clinician_id: int) -> User:
    """An active clinician of the director's own program (whose scheduler settings the director edits); else
    Http404."""
    person = _acting_user(request.user)
    if person is None or person.role != Role.DIRECTOR:
        raise Http404
    clinician = User.objects.filter(
        pk=clinician_id, program_id=person.program_pk, role=Role.CLINICIAN, is_active=True
    ).first()
    if clinician is None:
        raise Http404
    return clinician


def own_patient_record(request: HttpRequest, *, purpose: str) -> Patient | None:
    """A patient's own record (audited), or None for a patient account not linked to a record yet."""
    person = _acting_user(request.user)
    if person is None or person.role != Role.PATIENT:
        raise Http404
    own = Patient.objects.filter(user=person).values_list("pk", flat=True).first()
    return None if own is None else patient_for_user(request, own, purpose=purpose)


# --- treatment: plans, notes, discharge (openiop/treatment) ---------------------------------------------------


def may_see_counseling_notes(user: User | AnonymousUser, patient: Patient) -> bool:
    """Whether substance-use counseling notes about `patient` may be shown to or exported for `user`
    (42 CFR Part 2: they need their own, separate consent).

    The consent is the patient's active, unexpired counseling-notes consent signed at intake
    (referrals.SignedConsent), or one staff recorded from a paper form (treatment.CounselingNotesConsent).
    Revoking either takes effect on the next request. Callers must already have decided that `user` may see
    the patient at all."""

    person = _acting_user(user)
    if person is None or person.role == Role.FAMILY:
        return False
    today = timezone.localdate()
    signed = SignedConsent.objects.filter(
        patient=patient,
        document__kind=ConsentKind.COUNSELING_NOTES,
        status=SignedConsent.Status.ACTIVE,
        revoked_at__isnull=True,
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    on_paper = CounselingNotesConsent.objects.filter(patient=patient, revoked_at__isnull=True)
    return signed.exists() or on_paper.exists()


def plan_for_user(request: HttpRequest, plan_id: int) -> TreatmentPlan:
    """A treatment plan version if the person may read its patient's record (staff, or the patient); else 404."""

    plan = TreatmentPlan.objects.filter(pk=plan_id).select_related("enrollment", "enrollment__patient").first()
    if plan is None:
        raise Http404
    patient_for_user(request, plan.enrollment.patient_id, purpose="treatment-plan")
    return plan


def goal_for_user(request: HttpRequest, goal_id: int) -> TreatmentGoal:

    goal = TreatmentGoal.objects.filter(pk=goal_id).select_related("plan__enrollment__patient").first()
    if goal is None:
        raise Http404
    patient_for_user(request, goal.plan.enrollment.patient_id, purpose="treatment-plan")
    return goal


def sessions_for_clinician(user: User | AnonymousUser) -> QuerySet[Session]:
    """Sessions whose notes a clinician writes: the ones they lead."""
    person = _acting_user(user)
    if person is None or person.role != Role.CLINICIAN or person.program_id is None:
        return Session.objects.none()
    return Session.objects.filter(program_id=person.program_id, clinicians=person)


def session_for_clinician(request: HttpRequest, session_id: int, *, purpose: str = "session-note") -> Session:
    """A session the clinician leads, or whose note waits for their co-signature; else Http404. Opening it is a
    read of every attendee's record."""

    person = _acting_user(request.user)
    if person is None or person.role != Role.CLINICIAN:
        raise Http404
    session = sessions_for_clinician(person).filter(pk=session_id).first()
    if session is None:
        cosigning = Note.objects.filter(
            session_id=session_id,
            status=NoteStatus.AWAITING_COSIGN,
            author__supervision__supervisor=person,
            session__program_id=person.program_pk,
        ).exists()
        session = Session.objects.filter(pk=session_id).first() if cosigning else None
    if session is None:
        raise Http404
    attendees = list(Patient.objects.filter(session_attendances__session=session))
    audit.record_reads_of_list(person, attendees, purpose=purpose)
    return session


def discharge_for_user(request: HttpRequest, discharge_id: int) -> DischargeSummary:

    summary = DischargeSummary.objects.filter(pk=discharge_id).select_related("enrollment__patient").first()
    if summary is None:
        raise Http404
    patient_for_user(request, summary.enrollment.patient_id, purpose="discharge-summary")
    return summary


def check_in_for_patient(request: HttpRequest, check_in_id: int) -> CheckIn:
    """A follow-up check-in of the signed-in patient's own; else Http404."""

    person = _acting_user(request.user)
    if person is None or person.role != Role.PATIENT:
        raise Http404
    check_in = (
        CheckIn.objects.filter(pk=check_in_id, discharge__enrollment__patient__user=person)
        .select_related("discharge__enrollment__patient")
        .first()
    )
    if check_in is None:
        raise Http404
    patient_for_user(request, check_in.discharge.enrollment.patient_id, purpose="check-in")
    return check_in
