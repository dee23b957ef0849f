"""Rules for reviews, plans and notes that need no database. No Django imports."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

CONTINUE, EXTEND, STEP_DOWN, STEP_UP, DISCHARGE = "continue", "extend", "step-down", "step-up", "discharge"


def new_planned_end(decision: str, *, current_end: date, effective: date, extend_weeks: int = 0) -> date:
    """The planned end date after a review decision.

    continue keeps it; extend moves it by whole weeks; stepping down or up and discharge end the IOP
    episode on the effective date the clinician chose."""
    if decision == CONTINUE:
        return current_end
    if decision == EXTEND:
        if extend_weeks < 1:
            raise ValueError("an extension needs at least one week")
        return current_end + timedelta(weeks=extend_weeks)
    if decision in (STEP_DOWN, STEP_UP, DISCHARGE):
        return effective
    raise ValueError(f"unknown decision {decision!r}")


def review_weeks_due(week_of_care: int | None, review_weeks: Sequence[int], done_weeks: Iterable[int]) -> list[int]:
    """Review weeks reached and not yet reviewed."""
    if week_of_care is None:
        return []
    done = set(done_weeks)
    return [week for week in review_weeks if week <= week_of_care and week not in done]


def names_mentioned(text: str, names: Iterable[str]) -> list[str]:
    """The names (whole words, any case) that appear in `text`."""
    found = []
    for name in names:
        name = name.strip()
        if len(name) >= 2 and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE):
            found.append(name)
    return sorted(set(found))


def redact_names(text: str, names: Iterable[str], replacement: str) -> str:
    """`text` with each name (whole words, any case) replaced; longest names first."""
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", replacement, text, flags=re.IGNORECASE)
    return text
