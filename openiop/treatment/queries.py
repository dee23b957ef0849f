"""Read helpers for treatment pages. They run after openiop.accounts.access has decided who may see what.

The patient's copy of a note (`patient_note_copies`) is the only form in which a note reaches a patient's
record, portal or export: the shared part of a group note with every other member's name removed, and that
patient's own part only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.accounts.models import User
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, Patient
from openiop.scheduling.models import Session, SessionAttendee, SessionKind, SessionStatus
from openiop.treatment import rules
from openiop.treatment.curriculum import BUILT_IN, BUILT_IN_BY_SLUG, Module
from openiop.treatment.models import CurriculumModule, Note, NotePart, NoteStatus, PlanStatus, TreatmentPlan


def library(program_id: int) -> list[Module]:
    added = [
        Module(m.slug, m.title, tuple(m.objectives.splitlines()), tuple(m.outline.splitlines()))
        for m in CurriculumModule.objects.filter(program_id=program_id)
    ]
    return list(BUILT_IN) + added


def module_title(program_id: int, slug: str) -> str:
    if slug in BUILT_IN_BY_SLUG:
        return BUILT_IN_BY_SLUG[slug].title
    added = CurriculumModule.objects.filter(program_id=program_id, slug=slug).first()
    return added.title if added else slug


@dataclass(frozen=True)
class ModuleAttended:
    title: str
    day: date


def modules_attended(patient: Patient) -> list[ModuleAttended]:
    """Group sessions with a module the patient was on the list for, held so far. (Attendance status comes
    with the rooms issue; until then this is the attendee list.)"""
    titles = {m.slug: m.title for m in library(patient.program_id)}
    rows = (
        SessionAttendee.objects.filter(
            patient=patient, session__kind=SessionKind.GROUP, session__starts_at__lte=timezone.now()
        )
        .exclude(session__module="")
        .exclude(session__status=SessionStatus.CANCELLED)
        .select_related("session")
        .order_by("session__starts_at")
    )
    return [
        ModuleAttended(titles.get(row.session.module, row.session.module), timezone.localdate(row.session.starts_at))
        for row in rows
    ]


def plans_of(enrollment: Enrollment) -> list[TreatmentPlan]:
    return list(enrollment.treatment_plans.prefetch_related("goals__interventions").order_by("-version"))


def plan_in_force(enrollment: Enrollment) -> TreatmentPlan | None:
    return enrollment.treatment_plans.filter(status__in=[PlanStatus.ACTIVE, PlanStatus.COMPLETED]).first()


@dataclass
class NoteCopy:
    """A note as it appears in one patient's record."""

    note: Note
    day: date
    kind: str
    module: str
    topic: str
    observations: str
    data: str
    assessment: str
    plan: str
    own_part: NotePart | None
    addenda: list[str] = field(default_factory=list)


ANOTHER_MEMBER = "[another member]"


def patient_note_copies(patient: Patient, *, counseling_allowed: bool, limit: int | None = None) -> list[NoteCopy]:
    """Signed notes about `patient`, as that patient's copy: other members' names removed from the shared
    part and addenda, other members' parts left out; counseling notes only if `counseling_allowed`."""
    notes = (
        Note.objects.filter(parts__patient=patient, status=NoteStatus.SIGNED)
        .select_related("session")
        .prefetch_related("addenda")
        .order_by("-session__starts_at")
    )
    if not counseling_allowed:
        notes = notes.exclude(counseling_note=True)
    if limit is not None:
        notes = notes[:limit]
    found = list(notes)
    own_parts = {part.note_id: part for part in NotePart.objects.filter(patient=patient, note__in=found)}
    others_by_note: dict[int, set[str]] = {}
    for part in NotePart.objects.filter(note__in=found).exclude(patient=patient).select_related("patient"):
        names = others_by_note.setdefault(part.note_id, set())
        names.update({part.patient.given_name, part.patient.family_name, part.patient.full_name})
    copies = []
    for note in found:
        names = others_by_note.get(note.pk, set()) - {patient.given_name, patient.family_name, patient.full_name}

        def clean(text: str, names: set[str] = names) -> str:
            return rules.redact_names(text, names, ANOTHER_MEMBER)

        copies.append(
            NoteCopy(
                note=note,
                day=timezone.localdate(note.session.starts_at),
                kind=note.get_kind_display(),
                module=module_title(patient.program_id, note.module) if note.module else "",
                topic=clean(note.topic),
                observations=clean(note.observations),
                data=clean(note.data),
                assessment=clean(note.assessment),
                plan=clean(note.plan),
                own_part=own_parts.get(note.pk),
                addenda=[clean(a.text) for a in note.addenda.all()],
            )
        )
    return copies


# --- progress reviews ---------------------------------------------------------------------------------------


def review_weeks_due(enrollment: Enrollment, today: date | None = None) -> list[int]:
    today = today or timezone.localdate()
    done = enrollment.progress_reviews.values_list("week", flat=True)
    return rules.review_weeks_due(enrollment.week_of_care(today), settings.PROGRESS_REVIEW_WEEKS, done)


# --- the clinician's to-do ----------------------------------------------------------------------------------


@dataclass
class Todo:
    plan_reviews: list[TreatmentPlan]
    progress_reviews: list[tuple[Enrollment, int]]
    unsigned_sessions: list[Session]
    awaiting_cosign: list[Note]

    @property
    def count(self) -> int:
        return (
            len(self.plan_reviews)
            + len(self.progress_reviews)
            + len(self.unsigned_sessions)
            + len(self.awaiting_cosign)
        )


def clinician_todo(clinician: User) -> Todo:
    today = timezone.localdate()
    on_caseload = CareTeamMember.objects.filter(clinician=clinician).values("patient_id")
    plan_reviews = list(
        TreatmentPlan.objects.filter(
            status=PlanStatus.ACTIVE, next_review_due__lte=today, enrollment__patient_id__in=on_caseload
        )
        .select_related("enrollment__patient")
        .order_by("next_review_due")
    )
    enrollments = (
        Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE, patient_id__in=on_caseload)
        .select_related("patient")
        .prefetch_related("progress_reviews")
    )
    progress_reviews = []
    for enrollment in enrollments:
        done = [review.week for review in enrollment.progress_reviews.all()]
        for week in rules.review_weeks_due(enrollment.week_of_care(today), settings.PROGRESS_REVIEW_WEEKS, done)[-1:]:
            progress_reviews.append((enrollment, week))
    cutoff = timezone.now() - timedelta(hours=settings.NOTE_SIGN_HOURS)
    unsigned_sessions = list(
        Session.objects.filter(clinicians=clinician, ends_at__lte=cutoff)
        .exclude(status=SessionStatus.CANCELLED)
        .exclude(Q(note__status=NoteStatus.SIGNED) | Q(note__status=NoteStatus.AWAITING_COSIGN))
        .order_by("starts_at")[:50]
    )
    awaiting_cosign = list(
        Note.objects.filter(status=NoteStatus.AWAITING_COSIGN, author__supervision__supervisor=clinician)
        .select_related("session", "author")
        .order_by("signed_at")
    )
    return Todo(plan_reviews, progress_reviews, unsigned_sessions, awaiting_cosign)


def services_received_text(enrollment: Enrollment) -> str:
    """A starting text for the discharge summary: sessions by kind the patient was on the list for."""
    held = SessionAttendee.objects.filter(
        patient_id=enrollment.patient_id,
        session__starts_at__date__gte=enrollment.start_date,
        session__starts_at__lte=timezone.now(),
    ).exclude(session__status=SessionStatus.CANCELLED)
    counts = {kind: held.filter(session__kind=kind).count() for kind in SessionKind.values}
    return (
        _(
            "Group therapy sessions: %(group)s. Individual therapy sessions: %(individual)s. "
            "Family sessions: %(family)s."
        )
        % counts
    )
