"""Questionnaires, questionnaire responses and their scores (Observations) in the FHIR R4 API."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from openiop.accounts.models import Program
from openiop.fhirapi.resources import Context, Provider, by_date, by_id, by_patient, register
from openiop.measures.models import DerivedObservation, MeasureResponse, Questionnaire


def _questionnaire(row: Questionnaire, context: Context) -> dict[str, Any]:
    resource = dict(row.resource)
    resource["id"] = str(row.pk)
    return resource


def _response(row: MeasureResponse, context: Context) -> dict[str, Any]:
    resource = dict(row.resource)
    resource["id"] = str(row.pk)
    resource["status"] = "entered-in-error" if row.status == MeasureResponse.Status.ENTERED_IN_ERROR else "completed"
    return resource


def _observation(row: DerivedObservation, context: Context) -> dict[str, Any]:
    resource = dict(row.resource)
    resource["id"] = str(row.pk)
    resource["derivedFrom"] = [{"reference": f"QuestionnaireResponse/{row.response_id}"}]
    return resource


def _questionnaires(program: Program) -> QuerySet[Questionnaire]:
    return Questionnaire.objects.filter(Q(program__isnull=True) | Q(program=program)).order_by("pk")


register(
    Provider(
        type="Questionnaire",
        rows=_questionnaires,
        to_fhir=_questionnaire,
        patient_path=None,
        search={"_id": by_id, "name": lambda rows, value: rows.filter(slug=value)},
    )
)
register(
    Provider(
        type="QuestionnaireResponse",
        rows=lambda program: MeasureResponse.objects.filter(patient__program=program).order_by("pk"),
        to_fhir=_response,
        patient_path="patient_id",
        search={
            "_id": by_id,
            "patient": by_patient("patient_id"),
            "subject": by_patient("patient_id"),
            "authored": by_date("authored_at", is_datetime=True),
        },
        updated_field="authored_at",
    )
)
register(
    Provider(
        type="Observation",
        rows=lambda program: DerivedObservation.objects.filter(response__patient__program=program).order_by("pk"),
        to_fhir=_observation,
        patient_path="response__patient_id",
        search={
            "_id": by_id,
            "patient": by_patient("response__patient_id"),
            "subject": by_patient("response__patient_id"),
            "date": by_date("response__authored_at", is_datetime=True),
            "code": lambda rows, value: rows.filter(code=value.rsplit("|", 1)[-1]),
        },
        updated_field="response__authored_at",
    )
)
