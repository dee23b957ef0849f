"""Figures that other parts of OpenIOP provide, each behind one function so it plugs in when that part lands.

Each returns None while its source is not on main; pages then say "not yet available"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from openiop.intake.models import Enrollment
from openiop.measures import queries as measures_queries
from openiop.scheduling.models import Session


@dataclass(frozen=True)
class Dose:
    hours_delivered: Decimal
    weeks: int


@dataclass(frozen=True)
class Trajectory:
    instrument: str
    scores: list[tuple[date, int]]  # (day, total), oldest first
    baseline: int | None
    latest: int | None
    reliable_improvement: bool | None  # None: not judged for this instrument, or only one score
    reliable_worsening: bool | None
    response: bool | None
    remission: bool | None


def dose_delivered(enrollment: Enrollment) -> Dose | None:
    """Hours of care delivered so far. Needs attendance (the rooms issue): not on main yet."""
    return None


def measure_trajectories(enrollment: Enrollment) -> list[Trajectory]:
    """Each questionnaire's totals during this episode, with reliable change, response and remission against
    its first score (openiop.measures)."""
    out = []
    for found in measures_queries.trajectories_in(enrollment):
        scored = [(p.authored_at.date(), p.total) for p in found.points if p.total is not None]
        change = found.change
        out.append(
            Trajectory(
                instrument=found.questionnaire.short_title or found.questionnaire.title,
                scores=scored,
                baseline=change.baseline if change else (scored[0][1] if scored else None),
                latest=change.current if change else (scored[-1][1] if scored else None),
                reliable_improvement=change.reliable_improvement if change else None,
                reliable_worsening=change.reliable_worsening if change else None,
                response=change.response if change else None,
                remission=change.remission if change else None,
            )
        )
    return out


def hours_attended(enrollment: Enrollment) -> Decimal | None:
    """Hours the patient attended. Needs attendance (the rooms issue): not on main yet."""
    return None


def attendance_status(session: Session, patient_id: int) -> str | None:
    """Whether the patient came (present / late / absent). Needs the rooms issue: not on main yet."""
    return None
