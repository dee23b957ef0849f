"""Treatment plans: drafting, signing by clinician and patient, versions, reviews on the to-do, FHIR shapes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.goal import Goal as FhirGoal

from openiop.audit.models import AuditEntry
from openiop.treatment.fhir import careplan_to_fhir, goal_to_fhir
from openiop.treatment.models import Goal, Intervention, PlanStatus, TreatmentPlan
from tests.conftest import World


def _draft_with_goal(client, world: World) -> TreatmentPlan:
    response = client.post(
        reverse("treatment:create_plan", args=[world.pat.pk]),
        {"problems": "Drinking most evenings\nPoor sleep", "patient_words": "I want my mornings back."},
    )
    plan = TreatmentPlan.objects.get(enrollment__patient=world.pat)
    assert response.status_code == 302 and response["Location"] == reverse("treatment:plan", args=[plan.pk])
    target = (timezone.localdate() + timedelta(weeks=6)).isoformat()
    response = client.post(
        reverse("treatment:add_goal", args=[plan.pk]),
        {
            "problem": "Drinking most evenings",
            "description": "No more than two drinking days a week",
            "target_date": target,
            "measured_by": "Drinking diary reviewed weekly",
            "objectives": "Keep a diary\nPlan alcohol-free evenings",
            "group_sessions": "on",
            "module": "relapse-prevention",
            "individual_sessions": "on",
            "intervention_detail": "Map triggers",
        },
    )
    assert response.status_code == 302
    return plan


def test_plan_becomes_active_only_when_clinician_and_patient_have_signed(world: World, client_for) -> None:
    carla = client_for(world.carla)
    plan = _draft_with_goal(carla, world)
    goal = plan.goals.get()
    assert goal.objective_list == ["Keep a diary", "Plan alcohol-free evenings"]
    assert sorted(Intervention.objects.filter(goal=goal).values_list("kind", flat=True)) == ["group", "individual"]

    assert carla.post(reverse("treatment:sign_plan", args=[plan.pk])).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and plan.clinician_signed_by == world.carla

    # The patient sees the draft in the portal and signs it there.
    pat = client_for(world.pat_user)
    page = pat.get(reverse("treatment:my_treatment")).content.decode()
    assert "No more than two drinking days a week" in page and "I agree with this plan" in page
    assert pat.post(reverse("treatment:my_plan_sign", args=[plan.pk])).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    assert plan.next_review_due == timezone.localdate() + timedelta(days=14)
    assert AuditEntry.objects.filter(
        record_type="treatment.treatmentplan", record_id=str(plan.pk), detail__status="active", actor=world.pat_user
    ).exists()

    # An active plan cannot be edited in place.
    response = carla.post(reverse("treatment:edit_plan", args=[plan.pk]), {"problems": "Changed"})
    assert response.status_code == 400
    plan.refresh_from_db()
    assert plan.problems.startswith("Drinking most evenings")


def test_change_to_a_signed_draft_clears_the_signatures(world: World, client_for) -> None:
    carla = client_for(world.carla)
    plan = _draft_with_goal(carla, world)
    client_for(world.pat_user).post(reverse("treatment:my_plan_sign", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.patient_signed_at is not None
    carla.post(reverse("treatment:edit_plan", args=[plan.pk]), {"problems": "Something else", "patient_words": ""})
    plan.refresh_from_db()
    assert plan.patient_signed_at is None and plan.status == PlanStatus.DRAFT


def test_revision_keeps_the_old_version_readable_and_in_force_until_signed(world: World, client_for) -> None:
    carla = client_for(world.carla)
    pat = client_for(world.pat_user)
    first = _draft_with_goal(carla, world)
    carla.post(reverse("treatment:sign_plan", args=[first.pk]))
    pat.post(reverse("treatment:my_plan_sign", args=[first.pk]))

    assert carla.post(reverse("treatment:revise_plan", args=[first.pk])).status_code == 302
    second = TreatmentPlan.objects.get(enrollment__patient=world.pat, version=2)
    assert second.status == PlanStatus.DRAFT and second.goals.count() == 1
    carla.post(
        reverse("treatment:edit_plan", args=[second.pk]),
        {"problems": "Drinking at weekends only", "patient_words": "Weekends are the hard part now."},
    )
    first.refresh_from_db()
    assert first.status == PlanStatus.ACTIVE  # still in force

    carla.post(reverse("treatment:sign_plan", args=[second.pk]))
    pat.post(reverse("treatment:my_plan_sign", args=[second.pk]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (PlanStatus.REVOKED, PlanStatus.ACTIVE)
    assert first.superseded_at is not None

    old = carla.get(reverse("treatment:plan", args=[first.pk])).content.decode()
    assert "Drinking most evenings" in old and "superseded" in old
    assert "Drinking at weekends only" in carla.get(reverse("treatment:plan", args=[second.pk])).content.decode()
    # the old version's goal is its own row, unchanged
    assert Goal.objects.filter(plan=first).count() == 1


def test_patient_cannot_sign_another_patients_plan(world: World, client_for) -> None:
    plan = TreatmentPlan.objects.create(
        enrollment=world.quinn.enrollments.get(), version=1, problems="x", created_by=world.cole
    )
    response = client_for(world.pat_user).post(reverse("treatment:my_plan_sign", args=[plan.pk]))
    assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.patient_signed_at is None


def test_plan_review_due_is_on_the_clinicians_to_do_until_reviewed(world: World, client_for) -> None:
    carla = client_for(world.carla)
    plan = _draft_with_goal(carla, world)
    carla.post(reverse("treatment:sign_plan", args=[plan.pk]))
    client_for(world.pat_user).post(reverse("treatment:my_plan_sign", args=[plan.pk]))
    assert "Treatment plan review: Pat Example, H-1" not in carla.get(reverse("caseload")).content.decode()

    TreatmentPlan.objects.filter(pk=plan.pk).update(next_review_due=timezone.localdate() - timedelta(days=1))
    assert "Treatment plan review: Pat Example, H-1" in carla.get(reverse("caseload")).content.decode()

    assert carla.post(reverse("treatment:plan_reviewed", args=[plan.pk])).status_code == 302
    plan.refresh_from_db()
    assert plan.next_review_due == timezone.localdate() + timedelta(days=14)
    assert "Treatment plan review: Pat Example, H-1" not in carla.get(reverse("caseload")).content.decode()


def test_plan_and_goals_validate_as_fhir_careplan_and_goal(world: World, client_for) -> None:
    carla = client_for(world.carla)
    plan = _draft_with_goal(carla, world)
    # Validated by the R4B models, then read back as they serialise it.
    parsed: dict[str, Any] = CarePlan.model_validate(careplan_to_fhir(plan)).model_dump(mode="json")
    assert parsed["status"] == "draft" and parsed["intent"] == "plan"
    assert parsed["subject"]["reference"] == f"Patient/{world.pat.pk}"
    assert [a["display"] for a in parsed["addresses"]] == ["Drinking most evenings", "Poor sleep"]
    assert len(parsed["activity"]) == 2
    assert parsed["activity"][0]["detail"]["goal"][0]["reference"] == f"#goal-{plan.goals.get().pk}"
    assert parsed["contained"][0]["resourceType"] == "Goal"
    goal: dict[str, Any] = FhirGoal.model_validate(goal_to_fhir(plan.goals.get())).model_dump(mode="json")
    assert goal["lifecycleStatus"] == "proposed"
    assert goal["target"][0]["dueDate"] == plan.goals.get().target_date.isoformat()
    assert goal["target"][0]["measure"]["text"] == "Drinking diary reviewed weekly"


def test_goal_target_before_start_of_care_is_refused(world: World, client_for) -> None:
    carla = client_for(world.carla)
    plan = _draft_with_goal(carla, world)
    response = carla.post(
        reverse("treatment:add_goal", args=[plan.pk]),
        {"description": "x", "target_date": "2001-01-01", "measured_by": "y"},
    )
    assert response.status_code == 400 and "before the start of care" in response.content.decode()
    assert plan.goals.count() == 1
