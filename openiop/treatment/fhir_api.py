"""Treatment plans (CarePlan) and their goals (Goal) in the FHIR R4 API."""

from __future__ import annotations

from typing import Any

from openiop.fhirapi.resources import Context, Provider, by_date, by_id, by_patient, register
from openiop.treatment.fhir import careplan_to_fhir, goal_to_fhir
from openiop.treatment.models import Goal, TreatmentPlan


def _careplan(plan: TreatmentPlan, context: Context) -> dict[str, Any]:
    resource = careplan_to_fhir(plan)
    resource["id"] = str(plan.pk)
    return resource


def _goal(goal: Goal, context: Context) -> dict[str, Any]:
    resource = goal_to_fhir(goal)
    resource["id"] = str(goal.pk)
    return resource


register(
    Provider(
        type="CarePlan",
        rows=lambda program: (
            TreatmentPlan.objects.filter(enrollment__patient__program=program)
            .select_related("enrollment")
            .order_by("pk")
        ),
        to_fhir=_careplan,
        patient_path="enrollment__patient_id",
        search={
            "_id": by_id,
            "patient": by_patient("enrollment__patient_id"),
            "subject": by_patient("enrollment__patient_id"),
            "date": by_date("created_at", is_datetime=True),
        },
        updated_field="created_at",
    )
)
register(
    Provider(
        type="Goal",
        rows=lambda program: (
            Goal.objects.filter(plan__enrollment__patient__program=program)
            .select_related("plan__enrollment")
            .order_by("pk")
        ),
        to_fhir=_goal,
        patient_path="plan__enrollment__patient_id",
        search={
            "_id": by_id,
            "patient": by_patient("plan__enrollment__patient_id"),
            "subject": by_patient("plan__enrollment__patient_id"),
        },
    )
)
