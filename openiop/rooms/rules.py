"""Attendance and weekly dose rules: pure Python, no Django, so they can be tested and benchmarked alone.

Presence is a list of (kind, time) events for one person at one session; time in the room is the union of
join→leave intervals, clipped to the scheduled window. Thresholds come from settings (the 75 % line and the
10-minute lateness grace are program choices, not clinical facts)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

ATTENDED = "attended"
PARTIAL = "partial"
LATE = "late"
ABSENT = "absent"


def intervals(events: Iterable[tuple[str, datetime]], *, until: datetime) -> list[tuple[datetime, datetime]]:
    """Join→leave intervals from events in time order; a join with no leave runs until `until`.
    A second join while already in counts once; a leave while out is ignored."""
    result: list[tuple[datetime, datetime]] = []
    opened: datetime | None = None
    for kind, at in sorted(events, key=lambda event: event[1]):
        if kind == "join" and opened is None:
            opened = at
        elif kind == "leave" and opened is not None:
            result.append((opened, at))
            opened = None
    if opened is not None and until > opened:
        result.append((opened, until))
    return result


def seconds_within(spans: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> int:
    """Seconds of the spans that fall inside [start, end], overlaps counted once."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans if min(b, end) > max(a, start))
    total = 0.0
    current_start: datetime | None = None
    current_end: datetime | None = None
    for a, b in clipped:
        if current_end is None or a > current_end:
            if current_start is not None and current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = a, b
        else:
            current_end = max(current_end, b)
    if current_start is not None and current_end is not None:
        total += (current_end - current_start).total_seconds()
    return round(total)


def held_window(
    starts_at: datetime, ends_at: datetime, finished_at: datetime, clinician_joined: datetime | None
) -> tuple[datetime, datetime]:
    """The time the session was actually held, which attendance is measured against: the scheduled time,
    cut short if the clinician ended it early; if it was held (and ended) before its scheduled start, from
    the clinician's arrival to the end."""
    if finished_at <= starts_at and clinician_joined is not None and clinician_joined < finished_at:
        return clinician_joined, finished_at
    return starts_at, max(starts_at, min(ends_at, finished_at))


@dataclass(frozen=True)
class AttendanceResult:
    seconds: int
    first_joined: datetime | None
    status: str


def attendance(
    events: Iterable[tuple[str, datetime]],
    *,
    starts_at: datetime,
    ends_at: datetime,
    finished_at: datetime,
    attended_percent: int,
    late_minutes: int,
) -> AttendanceResult:
    """Attended: present for at least `attended_percent` of the scheduled time, and on time.
    Late: that much time, but first in more than `late_minutes` after the start.
    Partial: present, but for less. Absent: never present during the scheduled time."""
    spans = intervals(events, until=finished_at)
    seconds = seconds_within(spans, starts_at, ends_at)
    inside = [a for a, b in spans if b > starts_at and a < ends_at]
    first = max(min(inside), starts_at) if inside else None
    scheduled = (ends_at - starts_at).total_seconds()
    if seconds <= 0 or first is None or scheduled <= 0:
        status = ABSENT
    elif seconds * 100 >= attended_percent * scheduled:
        status = LATE if first - starts_at > timedelta(minutes=late_minutes) else ATTENDED
    else:
        status = PARTIAL
    return AttendanceResult(seconds=seconds, first_joined=first, status=status)


@dataclass(frozen=True)
class WeeklyDose:
    delivered_seconds: int
    scheduled_ahead_seconds: int
    required_hours: float

    @property
    def delivered_hours(self) -> float:
        return round(self.delivered_seconds / 3600, 1)

    @property
    def possible_hours(self) -> float:
        return round((self.delivered_seconds + self.scheduled_ahead_seconds) / 3600, 1)

    @property
    def on_course_to_miss(self) -> bool:
        """Even attending every remaining scheduled session this week would not reach the minimum."""
        return (self.delivered_seconds + self.scheduled_ahead_seconds) < self.required_hours * 3600

    @property
    def met(self) -> bool:
        return self.delivered_seconds >= self.required_hours * 3600


def week_bounds(day_start: datetime) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 around a local midnight `day_start`."""
    monday = day_start - timedelta(days=day_start.weekday())
    return monday, monday + timedelta(days=7)
