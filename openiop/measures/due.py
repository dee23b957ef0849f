"""When a scheduled measure is due. Pure logic: no Django here.

For one questionnaire on a patient's track:
- at intake: due from the enrollment's start until one is done for this enrollment;
- weekly: due on the configured weekday each week after the start, until a
  response to this questionnaire is dated that day or later (an intake or
  discharge response that week counts);
- at discharge: due from `discharge_days` before the planned end until one
  is done for this enrollment.
At most one occasion is shown per questionnaire: intake, then discharge, then weekly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Plan:
    at_intake: bool
    weekly: bool
    at_discharge: bool


@dataclass(frozen=True)
class Due:
    occasion: str  # "intake" | "weekly" | "discharge"
    due_date: date


def last_weekday_on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def due_occasion(
    plan: Plan,
    *,
    start: date,
    planned_end: date,
    today: date,
    weekly_day: int,
    discharge_days: int,
    done_occasions: set[str],
    last_response: date | None,
) -> Due | None:
    """The occasion for which this questionnaire is due today, if any.

    `done_occasions`: occasions already completed in this enrollment;
    `last_response`: date of the newest response to it in this enrollment."""
    if today < start:
        return None
    if plan.at_intake and "intake" not in done_occasions:
        return Due("intake", start)
    discharge_from = planned_end - timedelta(days=discharge_days)
    if plan.at_discharge and today >= discharge_from and "discharge" not in done_occasions:
        return Due("discharge", max(discharge_from, start))
    if plan.weekly:
        slot = last_weekday_on_or_before(today, weekly_day)
        if slot > start and (last_response is None or last_response < slot):
            return Due("weekly", slot)
    return None
