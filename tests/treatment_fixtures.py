"""Treatment records for the personas, made on first use and kept on the world (used by the access matrix
and the treatment tests)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from openiop.accounts.models import User
from openiop.intake.models import Patient
from openiop.scheduling.models import Session, SessionAttendee, SessionKind
from openiop.treatment.models import CheckIn, DischargeReason, DischargeSummary, Goal, TreatmentPlan
from tests.conftest import World


def _cache(world: World) -> dict[str, Any]:
    return world.__dict__.setdefault("_treatment", {})


def plan_of(world: World, who: str) -> TreatmentPlan:
    """A draft plan (v1, one goal) for pat, quinn or olga."""
    made = _cache(world)
    key = f"plan-{who}"
    if key not in made:
        patient: Patient = getattr(world, who)
        enrollment = patient.enrollments.get()
        author = {"pat": world.carla, "quinn": world.cole, "olga": world.oscar}[who]
        plan = TreatmentPlan.objects.create(enrollment=enrollment, version=1, problems="Low mood", created_by=author)
        Goal.objects.create(
            plan=plan, description="Feel better", target_date=enrollment.planned_end_date, measured_by="PHQ-9"
        )
        made[key] = plan
    plan = made[key]
    assert isinstance(plan, TreatmentPlan)
    return plan


def goal_of(world: World, who: str) -> Goal:
    return plan_of(world, who).goals.get()


def make_session(
    world: World, clinician: User, patients: list[Patient], *, kind: str = SessionKind.GROUP, hours_ago: float = 2
) -> Session:
    start = timezone.now() - timedelta(hours=hours_ago)
    session = Session.objects.create(
        program=patients[0].program,
        kind=kind,
        therapy_group=world.group if kind == SessionKind.GROUP and clinician == world.cole else None,
        title="Evening group" if kind == SessionKind.GROUP else "Individual therapy",
        starts_at=start,
        ends_at=start + timedelta(minutes=90),
    )
    session.clinicians.add(clinician)
    SessionAttendee.objects.bulk_create([SessionAttendee(session=session, patient=p) for p in patients])
    return session


def session_of(world: World, who: str) -> Session:
    """carla: a session Carla leads with Pat; cole: Cole's group with Quinn; oscar: Oscar's with Olga."""
    made = _cache(world)
    key = f"session-{who}"
    if key not in made:
        clinician: User = getattr(world, who)
        patient = {"carla": world.pat, "cole": world.quinn, "oscar": world.olga}[who]
        made[key] = make_session(world, clinician, [patient])
    session = made[key]
    assert isinstance(session, Session)
    return session


def discharge_of(world: World, who: str) -> DischargeSummary:
    made = _cache(world)
    key = f"discharge-{who}"
    if key not in made:
        patient: Patient = getattr(world, who)
        enrollment = patient.enrollments.get()
        made[key] = DischargeSummary.objects.create(
            enrollment=enrollment,
            reason=DischargeReason.COMPLETED,
            discharge_date=timezone.localdate(),
            services_received="Group and individual therapy",
            hours_attended=Decimal("30.0"),
            outpatient_therapist="Dr. Example",
            crisis_plan="Call 988",
            written_by=world.carla if patient.program == world.harborview else world.oscar,
        )
    summary = made[key]
    assert isinstance(summary, DischargeSummary)
    return summary


def check_in_of(world: World, who: str) -> CheckIn:
    made = _cache(world)
    key = f"check-in-{who}"
    if key not in made:
        made[key] = CheckIn.objects.create(
            discharge=discharge_of(world, who), days_after=7, due_date=timezone.localdate()
        )
    check_in = made[key]
    assert isinstance(check_in, CheckIn)
    return check_in
