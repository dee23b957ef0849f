"""Per-diem billing: which patient-days qualify, in which Medicare class, with which codes. Pure Python; no
Django imports. The rules (REFERENCE.md, "Billing facts"):

- a day counts only the services the patient attended (attended, late or partial);
- a day with any attended service whose note is not signed is never billable;
- substance-use (and co-occurring) days bill the substance-use code (H0015), which needs at least
  `min_minutes_substance_use` (3 hours) that day; mental-health days bill the psychiatric code (S9480);
- Medicare pays a daily rate in two classes: 3 qualifying services, or 4 and more (fewer than 3: no class);
- codes come from settings (the revenue codes are unconfirmed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Codes:
    hcpcs_substance_use: str = "H0015"
    hcpcs_mental_health: str = "S9480"
    revenue_substance_use: str = "0906"
    revenue_mental_health: str = "0905"
    min_minutes_substance_use: int = 180


@dataclass(frozen=True)
class Service:
    session_id: int
    kind: str  # group / individual / family
    minutes: int  # attended
    note_signed: bool


@dataclass(frozen=True)
class PatientDay:
    patient_id: int
    record_number: str
    day: date
    focus: str  # substance-use / mental-health / co-occurring
    payer: str
    services: Sequence[Service]


@dataclass(frozen=True)
class BilledDay:
    day: PatientDay
    minutes: int
    services: int
    billable: bool
    hcpcs: str
    revenue_code: str
    medicare_class: str  # "3", "4+" or "" (fewer than 3 services)
    reasons: list[str] = field(default_factory=list)  # why not billable, in plain words


def evaluate(day: PatientDay, codes: Codes) -> BilledDay:
    attended = [service for service in day.services if service.minutes > 0]
    minutes = sum(service.minutes for service in attended)
    substance_use = day.focus in ("substance-use", "co-occurring")
    reasons = []
    if not attended:
        reasons.append("no service attended")
    unsigned = [service.session_id for service in attended if not service.note_signed]
    if unsigned:
        reasons.append("no signed note for session " + ", ".join(str(pk) for pk in unsigned))
    if substance_use and attended and minutes < codes.min_minutes_substance_use:
        reasons.append(f"{minutes} minutes: {codes.hcpcs_substance_use} needs {codes.min_minutes_substance_use}")
    count = len(attended)
    return BilledDay(
        day=day,
        minutes=minutes,
        services=count,
        billable=not reasons,
        hcpcs=codes.hcpcs_substance_use if substance_use else codes.hcpcs_mental_health,
        revenue_code=codes.revenue_substance_use if substance_use else codes.revenue_mental_health,
        medicare_class="4+" if count >= 4 else "3" if count == 3 else "",
        reasons=reasons,
    )
