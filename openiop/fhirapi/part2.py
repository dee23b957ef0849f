"""42 CFR Part 2: records of a substance-use program leave only with the patient's written consent.

A patient ever enrolled in a substance-use or co-occurring track is covered. A covered patient is released
to an integration only while a Part 2 consent of theirs (referrals.SignedConsent, kind `part2`):
- is signed and active (not revoked: revocation counts from the next request, nothing is cached),
- has not expired: `expires_on` (if any) is today or later; "end of treatment" means the patient still has a
  planned, waiting, active or on-hold enrollment; "on a date" without a date is treated as expired,
- names this integration (`referrals.Part2Recipient`) under the integration's current organization name,
- with purposes that include every purpose the integration receives data for,
and the integration is itself still offered for Part 2 with an organization and purposes. Anything short of
that withholds the patient: the same 404 as a missing record, absent from searches and exports. Patients
never in a Part 2 track are not affected.

Every resource about a released patient carries the redisclosure notice (`label`): DS4P security labels in
`meta.security` (42CFRPart2, NORDSCLCD, ETH, confidentiality R) and the notice's text as the resource's
narrative (`text`, status `additional`), so a person reading the resource sees it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.html import escape

from openiop.accounts.models import Program
from openiop.fhirapi.models import ApiClient
from openiop.fhirapi.resources import Context, FhirDict, Provider
from openiop.intake.models import Enrollment, EnrollmentStatus
from openiop.referrals.consent_texts import REDISCLOSURE_NOTICE
from openiop.referrals.models import ConsentKind, Part2Recipient, SignedConsent
from openiop.scheduling.models import Focus

PART2_FOCUSES = (Focus.SUBSTANCE_USE, Focus.CO_OCCURRING)
IN_TREATMENT = (EnrollmentStatus.PLANNED, EnrollmentStatus.WAITLIST, EnrollmentStatus.ACTIVE, EnrollmentStatus.ONHOLD)

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SECURITY_LABELS: list[FhirDict] = [
    {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {"system": ACT_CODE, "code": "NORDSCLCD", "display": "no redisclosure without consent directive"},
    {"system": ACT_CODE, "code": "ETH", "display": "substance abuse information sensitivity"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R", "display": "restricted"},
]
NOTICE_DIV = f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(REDISCLOSURE_NOTICE)}</p></div>'


def offered_recipients(program_id: int) -> QuerySet[ApiClient]:
    """The integrations a patient may name on the Part 2 consent at intake."""
    return (
        ApiClient.objects.filter(program_id=program_id, active=True, receives_part2=True)
        .exclude(recipient_name="")
        .exclude(purposes=[])
        .order_by("recipient_name", "pk")
    )


def _consents_naming(program: Program, client: ApiClient) -> dict[int, int]:
    """Patient id → id of an active, unexpired Part 2 consent that names `client` for its purposes."""
    wanted = set(client.purposes)
    if not (client.active and client.receives_part2 and client.recipient_name and wanted):
        return {}
    today = timezone.localdate()
    in_treatment = Enrollment.objects.filter(patient_id=OuterRef("consent__patient_id"), status__in=IN_TREATMENT)
    expiry = SignedConsent.Expiry
    rows = (
        Part2Recipient.objects.filter(
            client=client,
            name=client.recipient_name,
            consent__patient__program=program,
            consent__document__kind=ConsentKind.PART2,
            consent__status=SignedConsent.Status.ACTIVE,
            consent__revoked_at__isnull=True,
        )
        .filter(Q(consent__expires_on__isnull=True) | Q(consent__expires_on__gte=today))
        .filter(
            Q(consent__expiry=expiry.NONE)
            | Q(consent__expiry=expiry.DATE, consent__expires_on__isnull=False)
            | Q(Exists(in_treatment), consent__expiry=expiry.END_OF_TREATMENT)
        )
        .values_list("consent__patient_id", "consent_id", "purposes")
    )
    return {patient_id: consent_id for patient_id, consent_id, purposes in rows if wanted <= set(purposes)}


def context_for(program: Program, client: ApiClient) -> Context:
    """What may leave for this integration: withheld patients, and the Part 2 patients it may receive."""
    covered = set(
        Enrollment.objects.filter(patient__program=program, track__focus__in=PART2_FOCUSES).values_list(
            "patient_id", flat=True
        )
    )
    if not covered:
        return Context()
    consents = {
        patient: consent for patient, consent in _consents_naming(program, client).items() if patient in covered
    }
    return Context(withheld=frozenset(covered - consents.keys()), part2=frozenset(consents), part2_consents=consents)


def withheld_patient_ids(program: Program, client: ApiClient) -> frozenset[int]:
    return context_for(program, client).withheld


def label(resource: FhirDict) -> FhirDict:
    """Mark a disclosed resource as Part 2 data and give it the redisclosure notice (in place)."""
    meta = dict(resource.get("meta") or {})
    present = {(coding.get("system"), coding.get("code")) for coding in meta.get("security", [])}
    meta["security"] = list(meta.get("security", [])) + [
        dict(coding) for coding in SECURITY_LABELS if (coding["system"], coding["code"]) not in present
    ]
    resource["meta"] = meta
    narrative = resource.get("text")
    if narrative and narrative.get("div", "").startswith("<div"):
        div = narrative["div"]
        opening = div.index(">") + 1
        resource["text"] = {
            "status": "additional",
            "div": f"{div[:opening]}<p>{escape(REDISCLOSURE_NOTICE)}</p>{div[opening:]}",
        }
    else:
        resource["text"] = {"status": "additional", "div": NOTICE_DIV}
    return resource


def about_part2(about: Iterable[int], context: Context) -> bool:
    return not context.part2.isdisjoint(about)


def disclose(provider: Provider, rows: Sequence[Any], about: dict[int, list[int]], context: Context) -> list[FhirDict]:
    """The FHIR resources of `rows` as they leave: each one about a released Part 2 patient is labelled.
    `about` is `resources.patients_of(provider, rows)`."""
    resources = []
    for row in rows:
        resource = provider.to_fhir(row, context)
        if context.part2 and about_part2(about.get(row.pk, ()), context):
            label(resource)
        resources.append(resource)
    return resources
