"""Figures that other parts of OpenIOP provide, each behind one function so it plugs in when that part lands.

Each returns None while its source is not on main; pages then say "not yet available"."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from openiop.intake.models import Enrollment
from openiop.scheduling.models import Session


@dataclass(frozen=True)
class Dose:
    hours_delivered: Decimal
    weeks: int


@dataclass(frozen=True)
class Trajectory:
    instrument: str
    scores: list[tuple[str, int]]  # (date, total)
    reliable_change: bool
    response: bool
    remission: bool


def dose_delivered(enrollment: Enrollment) -> Dose | None:
    """Hours of care delivered so far. Needs attendance (the rooms issue): not on main yet."""
    return None


def measure_trajectories(enrollment: Enrollment) -> list[Trajectory] | None:
    """PHQ-9 / GAD-7 / ... totals over time with reliable change, response and remission. Needs the
    measures issue: not on main yet."""
    return None


def hours_attended(enrollment: Enrollment) -> Decimal | None:
    """Hours the patient attended. Needs attendance (the rooms issue): not on main yet."""
    return None


def attendance_status(session: Session, patient_id: int) -> str | None:
    """Whether the patient came (present / late / absent). Needs the rooms issue: not on main yet."""
    return None
