"""schema.org JSON-LD for the public page (MedicalClinic offering MedicalTherapy per track), and the
TrackInfo the track finder matches on."""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import _json_script_escapes  # type: ignore[attr-defined]
from django.utils.safestring import SafeString, mark_safe

from openiop.portal.models import Modality, ProgramPage
from openiop.portal.trackfinder import TrackInfo
from openiop.scheduling.models import Track


def track_info(track: Track) -> TrackInfo:
    listing = track.listing
    return TrackInfo(
        slug=track.slug,
        population=track.population,
        focus=track.focus,
        modality=listing.modality,
        time_of_day=listing.time_of_day,
        accepting=listing.accepting,
    )


def program_json_ld(page: ProgramPage, tracks: list[Track], url: str) -> SafeString:
    therapies: list[dict[str, Any]] = []
    for track in tracks:
        listing = track.listing
        therapies.append(
            {
                "@type": "MedicalTherapy",
                "name": track.name,
                "description": track.schedule_summary,
                "relevantSpecialty": "Psychiatric",
                "additionalProperty": [
                    {"@type": "PropertyValue", "name": "hoursPerWeek", "value": listing.hours_per_week},
                    {"@type": "PropertyValue", "name": "delivery", "value": listing.modality},
                ],
            }
        )
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalClinic",
        "name": page.program.name,
        "url": url,
        "medicalSpecialty": "Psychiatric",
        "description": page.about or "Intensive outpatient program (IOP)",
        "availableService": therapies,
        "isAcceptingNewPatients": any(t.listing.accepting for t in tracks),
        "healthPlanNetworkId": (["MassHealth"] if page.accepts_masshealth else []) + page.insurance_list(),
    }
    if page.phone:
        data["telephone"] = page.phone
    if page.email:
        data["email"] = page.email
    if page.city:
        data["address"] = {"@type": "PostalAddress", "addressLocality": page.city, "addressRegion": "MA"}
    if any(t.listing.modality in (Modality.VIRTUAL, Modality.HYBRID) for t in tracks):
        data["availableChannel"] = {"@type": "ServiceChannel", "name": "Video sessions in the browser"}
    text = json.dumps(data, ensure_ascii=False, sort_keys=True).translate(_json_script_escapes)
    return mark_safe(text)  # noqa: S308  (escaped for a <script> element above)
