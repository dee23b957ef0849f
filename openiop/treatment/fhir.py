"""Treatment plans as FHIR R4 resources: TreatmentPlan -> CarePlan, Goal -> Goal (dicts; the tests validate
them with fhir.resources.R4B)."""

from __future__ import annotations

from typing import Any

from openiop.treatment.models import Goal, GoalStatus, PlanStatus, TreatmentPlan

GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
_LIFECYCLE = {
    GoalStatus.IN_PROGRESS: "active",
    GoalStatus.IMPROVING: "active",
    GoalStatus.ACHIEVED: "completed",
    GoalStatus.NOT_ACHIEVED: "cancelled",
}
_ACTIVITY_STATUS = {
    PlanStatus.DRAFT: "not-started",
    PlanStatus.ACTIVE: "in-progress",
    PlanStatus.REVOKED: "stopped",
    PlanStatus.COMPLETED: "completed",
}


def goal_to_fhir(goal: Goal) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "id": f"goal-{goal.pk}",
        "lifecycleStatus": "proposed" if goal.plan.status == PlanStatus.DRAFT else _LIFECYCLE[GoalStatus(goal.status)],
        "achievementStatus": {"coding": [{"system": GOAL_ACHIEVEMENT, "code": goal.status}]},
        "description": {"text": goal.description},
        "subject": {"reference": f"Patient/{goal.plan.enrollment.patient_id}"},
        "target": [{"measure": {"text": goal.measured_by}, "dueDate": goal.target_date.isoformat()}],
    }
    if goal.problem:
        resource["addresses"] = [{"display": goal.problem}]
    notes = [{"text": f"Objective: {objective}"} for objective in goal.objective_list]
    if notes:
        resource["note"] = notes
    return resource


def careplan_to_fhir(plan: TreatmentPlan) -> dict[str, Any]:
    goals = list(plan.goals.prefetch_related("interventions"))
    activities: list[dict[str, Any]] = [
        {
            "detail": {
                "kind": "Appointment",
                "code": {"text": intervention.get_kind_display()},
                "status": _ACTIVITY_STATUS[PlanStatus(plan.status)],
                "description": intervention.description or intervention.module or intervention.get_kind_display(),
                "goal": [{"reference": f"Goal/goal-{goal.pk}"}],
            }
        }
        for goal in goals
        for intervention in goal.interventions.all()
    ]
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": f"careplan-{plan.pk}",
        "status": str(plan.status),
        "intent": "plan",
        "title": f"Treatment plan, version {plan.version}",
        "subject": {"reference": f"Patient/{plan.enrollment.patient_id}"},
        "created": plan.created_at.isoformat(),
        "period": {
            "start": plan.enrollment.start_date.isoformat(),
            "end": plan.enrollment.planned_end_date.isoformat(),
        },
        "goal": [{"reference": f"Goal/goal-{goal.pk}"} for goal in goals],
        "addresses": [{"display": problem} for problem in plan.problem_list],
        "contained": [goal_to_fhir(goal) for goal in goals],
    }
    # Contained resources are referenced with '#id' in FHIR.
    for reference in resource["goal"]:
        reference["reference"] = "#" + reference["reference"].removeprefix("Goal/")
    for activity in activities:
        for reference in activity["detail"]["goal"]:
            reference["reference"] = "#" + reference["reference"].removeprefix("Goal/")
    if activities:
        resource["activity"] = activities
    if plan.patient_words:
        resource["note"] = [{"text": f"In the patient's words: {plan.patient_words}"}]
    return resource
