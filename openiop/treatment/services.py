"""Writes for treatment plans, the curriculum, notes, reviews, discharge and check-ins. Each runs in one
transaction with its audit entry; a request that cannot be carried out raises ServiceError."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.accounts.models import Program, Role, User
from openiop.audit import services as audit
from openiop.core.errors import ServiceError
from openiop.intake.models import Enrollment, EnrollmentStatus, Patient
from openiop.outbox.services import queue_email
from openiop.referrals.services import referral_after_discharge
from openiop.safety.services import raise_alert
from openiop.scheduling.models import Session, SessionKind, SessionStatus
from openiop.treatment import rules
from openiop.treatment.curriculum import BUILT_IN_BY_SLUG
from openiop.treatment.models import (
    Addendum,
    CheckIn,
    CounselingNotesConsent,
    CurriculumModule,
    DischargeSummary,
    Goal,
    GoalStatus,
    Intervention,
    Note,
    NotePart,
    NoteStatus,
    PlanStatus,
    ProgressReview,
    Supervision,
    TreatmentPlan,
)

# --- treatment plans ----------------------------------------------------------------------------------------


def create_plan(clinician: User, enrollment: Enrollment, *, problems: str, patient_words: str) -> TreatmentPlan:
    with transaction.atomic():
        # Lock the enrollment so two "start plan" requests are serialised: the second sees the first's plan.
        enrollment = Enrollment.objects.select_for_update().select_related("patient").get(pk=enrollment.pk)
        if enrollment.treatment_plans.exists():
            raise ServiceError(_("This enrollment already has a plan. Revise it instead."))
        plan = TreatmentPlan.objects.create(
            enrollment=enrollment, version=1, problems=problems, patient_words=patient_words, created_by=clinician
        )
        audit.record("create", actor=clinician, record=plan, patient=enrollment.patient, detail={"version": 1})
    return plan


def _locked_draft(plan: TreatmentPlan) -> TreatmentPlan:
    locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if locked.status != PlanStatus.DRAFT:
        raise ServiceError(_("Only a draft plan can be changed. Start a revision to change an active plan."))
    return locked


def _clear_signatures(plan: TreatmentPlan) -> list[str]:
    """A change to a draft voids signatures given to the earlier text."""
    plan.clinician_signed_by = None
    plan.clinician_signed_at = None
    plan.patient_signed_at = None
    return ["clinician_signed_by", "clinician_signed_at", "patient_signed_at"]


def update_plan(clinician: User, plan: TreatmentPlan, *, problems: str, patient_words: str) -> TreatmentPlan:
    with transaction.atomic():
        plan = _locked_draft(plan)
        plan.problems = problems
        plan.patient_words = patient_words
        plan.save(update_fields=["problems", "patient_words", *_clear_signatures(plan)])
        audit.record("update", actor=clinician, record=plan, patient=plan.enrollment.patient, detail={"part": "plan"})
    return plan


@dataclass(frozen=True)
class InterventionInput:
    kind: str
    module: str = ""
    description: str = ""


def add_goal(
    clinician: User,
    plan: TreatmentPlan,
    *,
    description: str,
    target_date: date,
    measured_by: str,
    objectives: str = "",
    problem: str = "",
    interventions: tuple[InterventionInput, ...] = (),
) -> Goal:
    with transaction.atomic():
        plan = _locked_draft(plan)
        if target_date < plan.enrollment.start_date:
            raise ServiceError(_("The target date is before the start of care."))
        goal = Goal.objects.create(
            plan=plan,
            description=description,
            target_date=target_date,
            measured_by=measured_by,
            objectives=objectives,
            problem=problem,
        )
        Intervention.objects.bulk_create(
            [Intervention(goal=goal, kind=i.kind, module=i.module, description=i.description) for i in interventions]
        )
        plan.save(update_fields=_clear_signatures(plan))
        audit.record("create", actor=clinician, record=goal, patient=plan.enrollment.patient)
    return goal


def sign_plan_as_clinician(clinician: User, plan: TreatmentPlan) -> TreatmentPlan:
    with transaction.atomic():
        plan = _locked_draft(plan)
        if not plan.goals.exists():
            raise ServiceError(_("Add at least one goal before signing the plan."))
        plan.clinician_signed_by = clinician
        plan.clinician_signed_at = timezone.now()
        plan.save(update_fields=["clinician_signed_by", "clinician_signed_at"])
        audit.record(
            "update", actor=clinician, record=plan, patient=plan.enrollment.patient, detail={"signed": "clinician"}
        )
        _activate_if_both_signed(plan, clinician)
    return plan


def sign_plan_as_patient(person: User, plan: TreatmentPlan) -> TreatmentPlan:
    with transaction.atomic():
        plan = _locked_draft(plan)
        if plan.enrollment.patient.user_id != person.pk:
            raise ServiceError(_("Only the patient can sign their own plan."))
        if not plan.goals.exists():
            raise ServiceError(_("This plan has no goals yet. Your clinician will add them with you."))
        plan.patient_signed_at = timezone.now()
        plan.save(update_fields=["patient_signed_at"])
        audit.record("update", actor=person, record=plan, patient=plan.enrollment.patient, detail={"signed": "patient"})
        _activate_if_both_signed(plan, person)
    return plan


def _activate_if_both_signed(plan: TreatmentPlan, actor: User) -> None:
    if plan.clinician_signed_at is None or plan.patient_signed_at is None:
        return
    now = timezone.now()
    previous = TreatmentPlan.objects.filter(enrollment=plan.enrollment, status=PlanStatus.ACTIVE).first()
    if previous is not None:
        previous.status = PlanStatus.REVOKED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at"])
    plan.status = PlanStatus.ACTIVE
    plan.activated_at = now
    plan.next_review_due = timezone.localdate() + timedelta(days=settings.TREATMENT_PLAN_REVIEW_DAYS)
    plan.save(update_fields=["status", "activated_at", "next_review_due"])
    audit.record(
        "update",
        actor=actor,
        record=plan,
        patient=plan.enrollment.patient,
        detail={"status": "active", "supersedes": previous.pk if previous else None},
    )


def revise_plan(clinician: User, plan: TreatmentPlan) -> TreatmentPlan:
    """A new draft version copied from the active plan; the active one stays in force until the new one is
    signed by both."""
    with transaction.atomic():
        Enrollment.objects.select_for_update().get(pk=plan.enrollment_id)  # one revision at a time
        plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.ACTIVE:
            raise ServiceError(_("Only the active plan can be revised."))
        if TreatmentPlan.objects.filter(enrollment=plan.enrollment, status=PlanStatus.DRAFT).exists():
            raise ServiceError(_("A revision is already in draft."))
        latest = TreatmentPlan.objects.filter(enrollment=plan.enrollment).order_by("-version").first()
        assert latest is not None
        revision = TreatmentPlan.objects.create(
            enrollment=plan.enrollment,
            version=latest.version + 1,
            problems=plan.problems,
            patient_words=plan.patient_words,
            created_by=clinician,
        )
        for goal in plan.goals.prefetch_related("interventions"):
            copy = Goal.objects.create(
                plan=revision,
                problem=goal.problem,
                description=goal.description,
                target_date=goal.target_date,
                measured_by=goal.measured_by,
                objectives=goal.objectives,
                status=goal.status,
            )
            Intervention.objects.bulk_create(
                [
                    Intervention(goal=copy, kind=i.kind, module=i.module, description=i.description)
                    for i in goal.interventions.all()
                ]
            )
        audit.record(
            "create",
            actor=clinician,
            record=revision,
            patient=plan.enrollment.patient,
            detail={"version": revision.version, "revises": plan.pk},
        )
    return revision


def mark_plan_reviewed(clinician: User, plan: TreatmentPlan) -> TreatmentPlan:
    with transaction.atomic():
        plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.ACTIVE:
            raise ServiceError(_("Only the active plan is reviewed."))
        plan.last_reviewed_at = timezone.now()
        plan.next_review_due = timezone.localdate() + timedelta(days=settings.TREATMENT_PLAN_REVIEW_DAYS)
        plan.save(update_fields=["last_reviewed_at", "next_review_due"])
        audit.record("update", actor=clinician, record=plan, patient=plan.enrollment.patient, detail={"reviewed": True})
    return plan


def set_goal_status(clinician: User, goal: Goal, status: str) -> Goal:
    """Progress on a goal is tracked on the plan in force (it does not change what was agreed)."""
    if status not in GoalStatus.values:
        raise ServiceError(_("Choose a valid progress value."))
    with transaction.atomic():
        goal = Goal.objects.select_for_update().select_related("plan__enrollment__patient").get(pk=goal.pk)
        if goal.plan.status not in (PlanStatus.ACTIVE, PlanStatus.DRAFT):
            raise ServiceError(_("This plan version is no longer in force."))
        goal.status = status
        goal.save(update_fields=["status"])
        audit.record(
            "update", actor=clinician, record=goal, patient=goal.plan.enrollment.patient, detail={"status": status}
        )
    return goal


# --- curriculum ---------------------------------------------------------------------------------------------


def add_module(
    person: User, program: Program, *, slug: str, title: str, objectives: str, outline: str
) -> CurriculumModule:
    with transaction.atomic():
        if slug in BUILT_IN_BY_SLUG or CurriculumModule.objects.filter(program=program, slug=slug).exists():
            raise ServiceError(_("A module with this short name already exists."))
        module = CurriculumModule.objects.create(
            program=program, slug=slug, title=title, objectives=objectives, outline=outline, created_by=person
        )
        audit.record("create", actor=person, record=module, program_id=program.pk)
    return module


# --- notes --------------------------------------------------------------------------------------------------


def start_note(clinician: User, session: Session) -> Note:
    """The draft note for a session, with one part per attendee (from SessionAttendee rows)."""
    with transaction.atomic():
        existing = Note.objects.filter(session=session).first()
        if existing is not None:
            return existing
        if session.status == SessionStatus.CANCELLED:
            raise ServiceError(_("A cancelled session has no note."))
        note = Note.objects.create(session=session, kind=session.kind, author=clinician, module=session.module)
        NotePart.objects.bulk_create(
            [NotePart(note=note, patient_id=a.patient_id) for a in session.attendees.order_by("patient_id")]
        )
        audit.record(
            "create", actor=clinician, record=note, program_id=session.program_id, detail={"session": session.pk}
        )
    return note


@dataclass(frozen=True)
class PartInput:
    participation: str = ""
    progress: str = ""
    risk: str = ""


CHAT_MAX = 20_000


def add_chat_to_note(clinician: User, session: Session, transcript: str) -> Note:
    """The clinician keeps the room's chat: appended to the session's draft note (started if need be), in
    the shared observations of a group note or the data of a DAP note. A signed note is not changed."""
    transcript = "\n".join(line.rstrip() for line in transcript.strip().splitlines() if line.strip())
    if not transcript:
        raise ServiceError(_("There is no chat to save."))
    if len(transcript) > CHAT_MAX:
        raise ServiceError(_("The chat is too long to save (at most %(n)s characters).") % {"n": CHAT_MAX})
    with transaction.atomic():
        start_note(clinician, session)
        note = Note.objects.select_for_update().get(session=session)
        if note.status != NoteStatus.DRAFT:
            raise ServiceError(_("The note is already signed: add the chat as an addendum instead."))
        heading = _("Chat from the session room, saved by %(name)s at %(time)s:") % {
            "name": clinician.display_name,
            "time": timezone.localtime().strftime("%H:%M"),
        }
        field = "observations" if note.kind == SessionKind.GROUP else "data"
        current = getattr(note, field)
        setattr(note, field, f"{current}\n\n{heading}\n{transcript}".strip())
        note.updated_at = timezone.now()
        note.save(update_fields=[field, "updated_at"])
        audit.record("update", actor=clinician, record=note, detail={"chat_saved": len(transcript)})
    return note


def save_note(
    clinician: User,
    note: Note,
    *,
    fields: dict[str, object],
    parts: dict[int, PartInput],
) -> Note:
    """Save a draft note: shared fields and each attendee's part (keyed by patient id)."""
    allowed = {"module", "topic", "observations", "data", "assessment", "plan", "counseling_note"}
    with transaction.atomic():
        note = Note.objects.select_for_update().get(pk=note.pk)
        if note.is_locked:
            raise ServiceError(_("This note is signed and locked. Add an addendum instead."))
        for name, value in fields.items():
            if name not in allowed:
                raise ValueError(name)
            setattr(note, name, value)
        note.updated_at = timezone.now()
        note.save()
        for part in note.parts.all():
            given = parts.get(part.patient_id)
            if given is not None:
                part.participation, part.progress, part.risk = given.participation, given.progress, given.risk
                part.save(update_fields=["participation", "progress", "risk"])
        audit.record("update", actor=clinician, record=note, program_id=note.session.program_id)
    return note


def other_member_names(note: Note) -> list[str]:
    """Names that must not appear in a group note's shared part: every attendee's and group member's
    given, family and full names."""
    patients = Patient.objects.filter(note_parts__note=note)
    if note.session.therapy_group_id is not None:
        patients = patients | Patient.objects.filter(
            group_memberships__group_id=note.session.therapy_group_id, group_memberships__end_date__isnull=True
        )
    names: set[str] = set()
    for patient in patients.distinct():
        names.update({patient.given_name, patient.family_name, patient.full_name})
    return sorted(names)


def names_in_shared_part(note: Note) -> list[str]:
    if note.kind != SessionKind.GROUP:
        return []
    return rules.names_mentioned(f"{note.topic}\n{note.observations}", other_member_names(note))


def sign_note(clinician: User, note: Note) -> Note:
    with transaction.atomic():
        note = Note.objects.select_for_update().select_related("session").get(pk=note.pk)
        if note.is_locked:
            raise ServiceError(_("This note is already signed."))
        if note.author_id != clinician.pk and not note.session.clinicians.filter(pk=clinician.pk).exists():
            raise ServiceError(_("Only the session's clinician can sign its note."))
        flagged = names_in_shared_part(note)
        if flagged:
            raise ServiceError(
                _("The shared part names group members (%(names)s). Remove the names before signing.")
                % {"names": ", ".join(flagged)}
            )
        if note.kind == SessionKind.GROUP and not (note.topic.strip() or note.observations.strip()):
            raise ServiceError(_("Write the topic or the observations before signing."))
        if note.kind != SessionKind.GROUP and not (note.data.strip() and note.assessment.strip() and note.plan.strip()):
            raise ServiceError(_("Fill in data, assessment and plan before signing."))
        trainee = Supervision.objects.filter(trainee=clinician).exists()
        note.author = clinician
        note.status = NoteStatus.AWAITING_COSIGN if trainee else NoteStatus.SIGNED
        note.signed_at = timezone.now()
        note.save(update_fields=["author", "status", "signed_at"])
        audit.record(
            "update", actor=clinician, record=note, program_id=note.session.program_id, detail={"signed": True}
        )
    return note


def cosign_note(supervisor: User, note: Note) -> Note:
    with transaction.atomic():
        note = Note.objects.select_for_update().get(pk=note.pk)
        if note.status != NoteStatus.AWAITING_COSIGN:
            raise ServiceError(_("This note is not waiting for a co-signature."))
        if not Supervision.objects.filter(trainee_id=note.author_id, supervisor=supervisor).exists():
            raise ServiceError(_("Only the author's supervisor can co-sign."))
        note.status = NoteStatus.SIGNED
        note.cosigned_by = supervisor
        note.cosigned_at = timezone.now()
        note.save(update_fields=["status", "cosigned_by", "cosigned_at"])
        audit.record(
            "update", actor=supervisor, record=note, program_id=supervisor.program_id, detail={"cosigned": True}
        )
    return note


def add_addendum(person: User, note: Note, text: str) -> Addendum:
    with transaction.atomic():
        note = Note.objects.select_for_update().get(pk=note.pk)
        if not note.is_locked:
            raise ServiceError(_("The note is still a draft: change it directly."))
        addendum = Addendum.objects.create(note=note, author=person, text=text)
        audit.record("create", actor=person, record=addendum, program_id=person.program_id, detail={"note": note.pk})
    return addendum


def set_counseling_consent(staff: User, patient: Patient, *, granted: bool) -> None:
    """INTERIM until the intake issue's consent record is merged (see CounselingNotesConsent)."""
    with transaction.atomic():
        current = CounselingNotesConsent.objects.select_for_update().filter(patient=patient, revoked_at__isnull=True)
        if granted and not current.exists():
            consent = CounselingNotesConsent.objects.create(patient=patient, recorded_by=staff)
            audit.record("create", actor=staff, record=consent, patient=patient)
        elif not granted:
            for consent in current:
                consent.revoked_at = timezone.now()
                consent.save(update_fields=["revoked_at"])
                audit.record("update", actor=staff, record=consent, patient=patient, detail={"revoked": True})


# --- progress reviews ---------------------------------------------------------------------------------------


def decide_review(
    clinician: User,
    enrollment: Enrollment,
    *,
    week: int,
    decision: str,
    reason: str,
    extend_weeks: int = 0,
    effective: date | None = None,
) -> ProgressReview:
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().select_related("patient").get(pk=enrollment.pk)
        if enrollment.status != EnrollmentStatus.ACTIVE:
            raise ServiceError(_("Only an active enrollment is reviewed."))
        if decision == rules.EXTEND and not reason.strip():
            raise ServiceError(_("Give the reason for the extension."))
        today = timezone.localdate()
        try:
            new_end = rules.new_planned_end(
                decision,
                current_end=enrollment.planned_end_date,
                effective=effective or today,
                extend_weeks=extend_weeks,
            )
        except ValueError as error:
            raise ServiceError(_("Choose a decision, and at least one week for an extension.")) from error
        if new_end < enrollment.start_date:
            raise ServiceError(_("The date is before the start of care."))
        review = ProgressReview.objects.create(
            enrollment=enrollment,
            week=week,
            decision=decision,
            reason=reason,
            previous_planned_end=enrollment.planned_end_date,
            new_planned_end=new_end,
            decided_by=clinician,
        )
        enrollment.planned_end_date = new_end
        enrollment.save(update_fields=["planned_end_date"])
        audit.record(
            "create",
            actor=clinician,
            record=review,
            patient=enrollment.patient,
            detail={"decision": decision, "planned_end": [str(review.previous_planned_end), str(new_end)]},
        )
    return review


# --- discharge and check-ins --------------------------------------------------------------------------------


def discharge(
    clinician: User,
    enrollment: Enrollment,
    *,
    reason: str,
    discharge_date: date,
    services_received: str,
    hours_attended: Decimal,
    measure_change: str,
    outpatient_therapist: str,
    support_groups: str,
    crisis_plan: str,
) -> DischargeSummary:
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().select_related("patient").get(pk=enrollment.pk)
        if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.ONHOLD):
            raise ServiceError(_("Only an active enrollment can be discharged."))
        if discharge_date < enrollment.start_date:
            raise ServiceError(_("The discharge date is before the start of care."))
        summary = DischargeSummary.objects.create(
            enrollment=enrollment,
            reason=reason,
            discharge_date=discharge_date,
            services_received=services_received,
            hours_attended=hours_attended,
            measure_change=measure_change,
            outpatient_therapist=outpatient_therapist,
            support_groups=support_groups,
            crisis_plan=crisis_plan,
            written_by=clinician,
        )
        enrollment.status = EnrollmentStatus.FINISHED
        enrollment.end_date = discharge_date
        enrollment.save(update_fields=["status", "end_date"])
        TreatmentPlan.objects.filter(enrollment=enrollment, status=PlanStatus.ACTIVE).update(
            status=PlanStatus.COMPLETED
        )
        CheckIn.objects.bulk_create(
            [
                CheckIn(discharge=summary, days_after=days, due_date=discharge_date + timedelta(days=days))
                for days in settings.CHECK_IN_DAYS
            ]
        )
        audit.record("create", actor=clinician, record=summary, patient=enrollment.patient, detail={"reason": reason})
    return summary


def answer_check_in(person: User, check_in: CheckIn, *, how_are_you: str, needs_help: bool) -> CheckIn:
    with transaction.atomic():
        check_in = (
            CheckIn.objects.select_for_update().select_related("discharge__enrollment__patient").get(pk=check_in.pk)
        )
        patient = check_in.discharge.enrollment.patient
        if patient.user_id != person.pk or person.role != Role.PATIENT:
            raise ServiceError(_("This check-in is not yours."))
        if check_in.answered_at is not None:
            raise ServiceError(_("This check-in has already been answered. Thank you."))
        if check_in.due_date > timezone.localdate():
            raise ServiceError(_("This check-in opens on its date."))
        check_in.how_are_you = how_are_you
        check_in.needs_help = needs_help
        check_in.answered_at = timezone.now()
        check_in.save(update_fields=["how_are_you", "needs_help", "answered_at"])
        audit.record("update", actor=person, record=check_in, patient=patient, detail={"needs_help": needs_help})
        if needs_help:
            raise_alert(
                program=patient.program,
                source="check-in",
                summary=_("Asked for help at the %(days)s-day follow-up check-in after discharge.")
                % {"days": check_in.days_after},
                patient=patient,
                link=reverse("treatment:patient_treatment", args=[patient.pk]),
                actor=person,
            )
            open_referral_from_check_in(check_in, person)
    return check_in


def remind_due_check_ins(today: date | None = None) -> int:
    """Email each patient whose check-in is due today or earlier, unanswered and not yet reminded (once).

    Each check-in is claimed with a conditional update, so two runs never remind twice. The email only says a
    check-in is waiting, with the link."""
    today = today or timezone.localdate()
    due = CheckIn.objects.filter(due_date__lte=today, answered_at__isnull=True, reminded_at__isnull=True)
    reminded = 0
    for check_in in due.select_related(
        "discharge__enrollment__patient__user", "discharge__enrollment__patient__program"
    ):
        with transaction.atomic():
            if not CheckIn.objects.filter(pk=check_in.pk, reminded_at__isnull=True).update(reminded_at=timezone.now()):
                continue
            patient = check_in.discharge.enrollment.patient
            if patient.user is None or not patient.user.email:
                continue
            url = settings.SITE_URL + reverse("treatment:my_check_in", args=[check_in.pk])
            queue_email(
                to=patient.user.email,
                subject=_("A check-in from your OpenIOP care team"),
                body=render_to_string("treatment/email/check_in.txt", {"url": url, "program": patient.program}),
                purpose="check-in",
                program=patient.program,
            )
            audit.record("update", actor=None, record=check_in, patient=patient, detail={"reminded": True})
            reminded += 1
    return reminded


def open_referral_from_check_in(check_in: CheckIn, actor: User | None) -> None:
    """A discharged patient who asked for help goes back on the intake board as a new referral."""
    referral_after_discharge(check_in.discharge.enrollment.patient, days_after=check_in.days_after, actor=actor)
