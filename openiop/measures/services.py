"""Writes for measures: import questionnaires, store and score responses, raise
the crisis alert, queue reminders. Each runs in one transaction with its audit entry."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.audit import services as audit
from openiop.core.errors import ServiceError
from openiop.measures import conf, fhir, scoring
from openiop.measures.models import (
    DerivedObservation,
    MeasureReminder,
    MeasureResponse,
    MeasureSchedule,
    Occasion,
    Questionnaire,
)
from openiop.outbox import services as outbox
from openiop.safety import services as safety

if TYPE_CHECKING:
    from openiop.accounts.models import Program, User
    from openiop.intake.models import Enrollment, Patient


def builtin_questionnaire(key: str) -> Questionnaire:
    """The built-in instrument `key`, stored on first use from its JSON file."""
    existing = Questionnaire.objects.filter(program__isnull=True, slug=key).first()
    if existing is not None:
        return existing
    parsed = fhir.load_builtin(key)
    with transaction.atomic():
        questionnaire, created = Questionnaire.objects.get_or_create(
            program=None,
            slug=key,
            defaults={
                "title": parsed.title,
                "instrument_key": parsed.instrument_key or "",
                "resource": parsed.resource,
                "copyright": parsed.copyright,
            },
        )
        if created:
            audit.record("create", actor=None, record=questionnaire, detail={"builtin": key})
    return questionnaire


def builtin_questionnaires() -> list[Questionnaire]:
    return [builtin_questionnaire(key) for key in fhir.builtin_keys()]


def import_questionnaire(
    *, program: Program, actor: User | None, data: Any, critical_link_ids: list[str] | None = None
) -> Questionnaire:
    """Validate and store a FHIR R4 Questionnaire for `program`.

    Raises ServiceError naming what is wrong or unsupported."""
    critical = [link for link in (critical_link_ids or []) if link]
    try:
        parsed = fhir.parse_questionnaire(data, critical_link_ids=critical)
    except fhir.QuestionnaireError as error:
        raise ServiceError(str(error)) from None
    known = {item.link_id for item in parsed.questions()}
    unknown = [link for link in critical if link not in known]
    if unknown:
        raise ServiceError(_("These critical items are not questions in it: %s.") % ", ".join(unknown))
    slug = _slug(str(data.get("name") or data.get("id") or parsed.title))
    with transaction.atomic():
        taken = set(Questionnaire.objects.filter(program=program).values_list("slug", flat=True))
        base, n = slug, 2
        while slug in taken or slug in scoring.INSTRUMENTS:
            slug, n = f"{base}-{n}", n + 1
        questionnaire = Questionnaire.objects.create(
            program=program,
            slug=slug,
            title=parsed.title[:300],
            instrument_key=parsed.instrument_key or "",
            resource=parsed.resource,
            critical_link_ids=critical,
            copyright=parsed.copyright,
            created_by=actor,
        )
        audit.record(
            "create",
            actor=actor,
            record=questionnaire,
            program_id=program.pk,
            detail={"url": parsed.url, "instrument": parsed.instrument_key or "", "critical": critical},
        )
    return questionnaire


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50]
    return slug or "questionnaire"


def submit_response(
    *,
    questionnaire: Questionnaire,
    patient: Patient,
    actor: User,
    answers: dict[str, Any],
    enrollment: Enrollment | None = None,
    occasion: str = Occasion.AD_HOC,
    administered_by_staff: bool = False,
) -> MeasureResponse:
    """Store a completed questionnaire with its score and derived Observations.

    A critical answer raises the safety alert in the same transaction: the
    response and the alert are stored together or not at all."""
    parsed = questionnaire.parsed()
    missing = fhir.missing_required(parsed, answers)
    if missing:
        raise ServiceError(_("Please answer every required question (%d left).") % len(missing))
    result = fhir.score(parsed, answers, thresholds=conf.thresholds())
    now = timezone.now()
    with transaction.atomic():
        response = MeasureResponse.objects.create(
            patient=patient,
            questionnaire=questionnaire,
            enrollment=enrollment,
            occasion=occasion,
            authored_at=now,
            submitted_by=actor,
            administered_by_staff=administered_by_staff,
            resource={},
            total=result.total,
            band=result.band or "",
            subscales=result.subscales,
            critical_items=result.critical_items,
            warnings=result.warnings,
        )
        authored = now.isoformat()
        author = f"Practitioner/{actor.pk}" if administered_by_staff else f"Patient/{patient.pk}"
        subject = f"Patient/{patient.pk}"
        response.resource = fhir.build_response(
            parsed,
            answers,
            response_id=str(response.pk),
            subject=subject,
            authored=authored,
            author=author,
        )
        response.save(update_fields=["resource"])
        DerivedObservation.objects.bulk_create(
            DerivedObservation(
                response=response,
                code_system=obs["code"]["coding"][0]["system"],
                code=obs["code"]["coding"][0]["code"],
                value=obs["valueInteger"],
                resource=obs,
            )
            for obs in fhir.build_observations(
                parsed, result, response_id=str(response.pk), subject=subject, effective=authored
            )
        )
        audit.record(
            "create",
            actor=actor,
            record=response,
            patient=patient,
            detail={
                "questionnaire": questionnaire.slug,
                "occasion": occasion,
                "total": result.total,
                "critical_items": result.critical_items,
                "administered_by_staff": administered_by_staff,
            },
            flagged=bool(result.critical_items),
        )
        if result.critical_items:
            _raise_crisis_alert(response, actor)
    return response


def _raise_crisis_alert(response: MeasureResponse, actor: User) -> None:
    """Reach the patient's clinicians now. Called inside submit_response's transaction."""
    patient = response.patient
    items = ", ".join(str(n) for n in response.critical_items)
    safety.raise_alert(
        program=patient.program,
        source="measure",
        summary=_("%(measure)s: a critical answer (item %(items)s) needs a clinician now.")
        % {"measure": response.questionnaire.short_title, "items": items},
        patient=patient,
        about=f"measures.measureresponse:{response.pk}",
        link=reverse("measures:trajectories", kwargs={"patient_id": patient.pk}),
    )


def export_bundle(response: MeasureResponse) -> dict[str, Any]:
    """The response and its Observations as a FHIR collection Bundle."""
    from fhir.resources.R4B.bundle import Bundle

    entries = [{"fullUrl": f"urn:openiop:QuestionnaireResponse/{response.pk}", "resource": response.resource}]
    entries += [
        {"fullUrl": f"urn:openiop:Observation/{obs.resource['id']}", "resource": obs.resource}
        for obs in response.observations.all()
    ]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    Bundle.model_validate(json.loads(json.dumps(bundle)))
    return bundle


def queue_reminder(*, patient: Patient, questionnaire: Questionnaire, due_date: date) -> bool:
    """Queue one reminder email for a due measure; False if already queued or no address.

    The email says only that a check-in is waiting: no clinical details."""
    user = patient.user
    if user is None or not user.email:
        return False
    with transaction.atomic():
        _reminder, created = MeasureReminder.objects.get_or_create(
            patient=patient, questionnaire=questionnaire, due_date=due_date
        )
        if not created:
            return False
        outbox.queue_email(
            to=user.email,
            subject=_("A check-in is waiting for you"),
            body=_(
                "Hello %(name)s,\n\nA short check-in is waiting for you in OpenIOP. It takes a few minutes; "
                "your care team uses it to see how things are going.\n\nSign in to complete it.\n"
            )
            % {"name": patient.given_name},
            purpose="measure-reminder",
            program=patient.program,
        )
        audit.record(
            "create",
            actor=None,
            record_type="measures.measurereminder",
            record_id=f"{questionnaire.slug}:{due_date.isoformat()}",
            patient=patient,
            detail={"questionnaire": questionnaire.slug, "due_date": due_date.isoformat()},
        )
    return True


def set_schedules(*, program: Program, actor: User, plan: dict[tuple[int, int], tuple[bool, bool, bool]]) -> None:
    """Replace the program's measure schedules: (track id, questionnaire id) -> (intake, weekly, discharge).

    A pair with no occasion is removed. Tracks and questionnaires must belong to
    the program (or be built in)."""
    from openiop.scheduling.models import Track

    tracks = set(Track.objects.filter(program=program).values_list("pk", flat=True))
    offered = set(
        Questionnaire.objects.filter(
            models.Q(program__isnull=True) | models.Q(program=program), status=Questionnaire.Status.ACTIVE
        ).values_list("pk", flat=True)
    )
    if any(track not in tracks or questionnaire not in offered for track, questionnaire in plan):
        raise ServiceError(_("That track or questionnaire is not in your program."))
    with transaction.atomic():
        MeasureSchedule.objects.filter(track__program=program).delete()
        MeasureSchedule.objects.bulk_create(
            MeasureSchedule(
                track_id=track, questionnaire_id=questionnaire, at_intake=intake, weekly=weekly, at_discharge=discharge
            )
            for (track, questionnaire), (intake, weekly, discharge) in sorted(plan.items())
            if intake or weekly or discharge
        )
        audit.record(
            "update",
            actor=actor,
            record_type="measures.measureschedule",
            program_id=program.pk,
            detail={
                "schedules": [
                    [track, questionnaire, *flags]
                    for (track, questionnaire), flags in sorted(plan.items())
                    if any(flags)
                ]
            },
        )
