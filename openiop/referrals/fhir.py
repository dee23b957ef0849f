"""A signed consent as a FHIR R4 Consent resource (one row, one resource),
served by the FHIR API (`/fhir/Consent`, registered below; Part 2 patients are
withheld there like every other resource about them).

Field by field:
- status        <- SignedConsent.status (active / inactive after revocation / entered-in-error)
- scope         <- the kind: treatment (treatment, telehealth) or patient-privacy (disclosures)
- category      <- LOINC 59284-0 "Patient Consent" or 64292-6 "Release of information consent"
- patient       <- Patient/<id> (set at enrollment)
- dateTime      <- signed_at
- performer     <- the patient (who signed)
- organization  <- the program (who may disclose)
- sourceAttachment <- the exact text shown (text/plain), titled with the document and version
- identifier    <- the SHA-256 of that text (Attachment.hash is SHA-1 in R4, so it goes here)
- policy        <- 42 CFR Part 2 for Part 2 and counseling-notes consents
- verification  <- typed-name signature: verified, with the patient, on signed_at
- provision     <- permit; period until expires_on (or revoked_at); actor = recipient;
                   purpose = TREAT/HPAYMT/HOPERAT (Part 2 TPO) or TREAT; action = disclose/access;
                   for each organization a Part 2 consent names (Part2Recipient), a nested permit
                   provision: actor = that organization (name + the integration's id), purpose = its purposes
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.db.models import QuerySet
from fhir.resources.R4B.consent import Consent

from openiop.accounts.models import Program
from openiop.fhirapi.resources import Context, Provider, by_id, by_patient, register
from openiop.referrals.models import FHIR_CATEGORY, FHIR_SCOPE, ConsentKind, SignedConsent

PART2_POLICY = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
DISCLOSURE_KINDS = (ConsentKind.PART2, ConsentKind.COUNSELING_NOTES, ConsentKind.FAMILY_ACCESS)


def to_fhir(consent: SignedConsent) -> Consent:
    kind = ConsentKind(consent.document.kind)
    system, code, display = FHIR_CATEGORY[kind]
    patient_ref = {"reference": f"Patient/{consent.patient_id}"} if consent.patient_id else None
    end = consent.revoked_at.isoformat() if consent.revoked_at else (
        consent.expires_on.isoformat() if consent.expires_on else None
    )  # fmt: skip
    provision: dict[str, object] = {"type": "permit", "period": {"start": consent.signed_at.isoformat()}}
    if end:
        provision["period"] = {"start": consent.signed_at.isoformat(), "end": end}
    if kind in DISCLOSURE_KINDS:
        provision["action"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                        "code": "access" if kind == ConsentKind.FAMILY_ACCESS else "disclose",
                    }
                ]
            }
        ]
        provision["actor"] = [
            {
                "role": {"coding": [{"system": PARTICIPATION, "code": "IRCP"}]},
                "reference": {"display": consent.recipient},
            }
        ]
        purposes = ["TREAT", "HPAYMT", "HOPERAT"] if kind == ConsentKind.PART2 else ["TREAT"]
        provision["purpose"] = [{"system": ACT_REASON, "code": purpose} for purpose in purposes]
        named = [
            {
                "type": "permit",
                "actor": [
                    {
                        "role": {"coding": [{"system": PARTICIPATION, "code": "IRCP"}]},
                        "reference": {
                            "display": recipient.name,
                            "identifier": {"system": "urn:openiop:integration", "value": str(recipient.client_id)},
                        },
                    }
                ],
                "purpose": [{"system": ACT_REASON, "code": purpose} for purpose in recipient.purposes],
            }
            for recipient in consent.part2_recipients.all()
        ]
        if named:
            provision["provision"] = named
    resource: dict[str, object] = {
        "id": str(consent.pk),
        "status": consent.status,
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": FHIR_SCOPE[kind]}]
        },
        "category": [{"coding": [{"system": system, "code": code, "display": display}]}],
        "dateTime": consent.signed_at.isoformat(),
        "organization": [{"display": consent.disclosing_party}],
        "identifier": [{"system": "urn:openiop:consent-text-sha256", "value": consent.text_sha256}],
        "sourceAttachment": {
            "contentType": "text/plain; charset=utf-8",
            "data": base64.b64encode(consent.shown_text.encode()).decode(),
            "title": f"{consent.document.title} (version {consent.document.version})",
        },
        "verification": [{"verified": True, "verificationDate": consent.signed_at.isoformat()}],
        "provision": provision,
    }
    if patient_ref:
        resource["patient"] = patient_ref
        resource["performer"] = [patient_ref]
        resource["verification"] = [
            {"verified": True, "verifiedWith": patient_ref, "verificationDate": consent.signed_at.isoformat()}
        ]
    if kind in (ConsentKind.PART2, ConsentKind.COUNSELING_NOTES):
        resource["policy"] = [{"uri": PART2_POLICY}]
    else:
        resource["policyRule"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]
        }
    return Consent.model_validate(resource)


def _consent_rows(program: Program) -> QuerySet[SignedConsent]:
    # Only consents of enrolled patients: a referral is not a patient record yet.
    return (
        SignedConsent.objects.filter(referral__program=program, patient__isnull=False)
        .select_related("document")
        .prefetch_related("part2_recipients")
        .order_by("pk")
    )


def _consent_dict(consent: SignedConsent, context: Context) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(to_fhir(consent).model_dump_json())
    return data


register(
    Provider(
        type="Consent",
        rows=_consent_rows,
        to_fhir=_consent_dict,
        patient_path="patient_id",
        search={"_id": by_id, "patient": by_patient("patient_id")},
        updated_field="signed_at",
    )
)
