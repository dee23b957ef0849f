"""The outcome report's arithmetic: de-identified program figures with 95% confidence intervals and small
cells suppressed. Pure Python; no Django imports.

Suppression: a count from 1 to `minimum_cell - 1` (default 1-10) is never shown, and neither is a rate or
mean built on fewer than `minimum_cell` people, nor a proportion whose numerator or whose complement is a
small cell (else the count could be worked back from the rate and the total)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MINIMUM_CELL = 11

# Two-sided 95% Student t quantiles for 1-30 degrees of freedom; above 30 the approximation below.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z975 = 1.959964


def t975(df: int) -> float:
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    # Cornish-Fisher expansion around the normal quantile; within 0.001 of the exact value above 30 df.
    z = Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


def mean_ci(values: Sequence[float]) -> Interval | None:
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    half = t975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return Interval(mean, mean - half, mean + half)


def wilson(successes: int, n: int) -> Interval | None:
    """A proportion (0-1) with its Wilson score interval."""
    if n <= 0 or not 0 <= successes <= n:
        return None
    p = successes / n
    z2 = Z975**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z975 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def small(count: int, minimum_cell: int = MINIMUM_CELL) -> bool:
    return 0 < count < minimum_cell


@dataclass(frozen=True)
class Shown:
    """A figure as published: its value, or suppressed (with why)."""

    count: int | None  # None: suppressed
    interval: Interval | None = None
    suppressed: bool = False

    @property
    def text(self) -> str:
        return "<11" if self.suppressed and self.count is None else "" if self.count is None else str(self.count)


def count(value: int, minimum_cell: int = MINIMUM_CELL) -> Shown:
    return Shown(None, suppressed=True) if small(value, minimum_cell) else Shown(value)


def proportion(successes: int, n: int, minimum_cell: int = MINIMUM_CELL) -> Shown:
    if n < minimum_cell or small(successes, minimum_cell) or small(n - successes, minimum_cell):
        return Shown(None, suppressed=True)
    return Shown(successes, wilson(successes, n))


def mean(values: Sequence[float], minimum_cell: int = MINIMUM_CELL) -> Shown:
    if len(values) < minimum_cell:
        return Shown(None, suppressed=len(values) > 0)
    return Shown(len(values), mean_ci(values))


@dataclass(frozen=True)
class Pair:
    """One person's first and last score in the episode."""

    baseline: int
    final: int


@dataclass(frozen=True)
class MeasureOutcome:
    instrument: str
    people: Shown  # with both scores
    change: Shown  # mean (final - baseline), negative = fewer symptoms on symptom measures
    reliable_improvement: Shown
    response: Shown | None  # None: not defined for this instrument
    remission: Shown | None


def measure_outcome(
    instrument: str,
    pairs: Sequence[Pair],
    *,
    reliable_change: float | None,
    higher_is_better: bool = False,
    response_drop_percent: int | None = 50,
    remission_below: int | None = None,
    minimum_cell: int = MINIMUM_CELL,
) -> MeasureOutcome:
    n = len(pairs)
    changes = [pair.final - pair.baseline for pair in pairs]
    improved = None
    if reliable_change is not None:
        improved = sum(1 for d in changes if (d if higher_is_better else -d) >= reliable_change)
    responded = None
    if response_drop_percent is not None:
        responded = sum(
            1 for p in pairs if p.baseline > 0 and (p.baseline - p.final) * 100 >= response_drop_percent * p.baseline
        )
    remitted = None if remission_below is None else sum(1 for p in pairs if p.final < remission_below)
    return MeasureOutcome(
        instrument=instrument,
        people=count(n, minimum_cell),
        change=mean(changes, minimum_cell),
        reliable_improvement=proportion(improved, n, minimum_cell) if improved is not None else Shown(None),
        response=None if responded is None else proportion(responded, n, minimum_cell),
        remission=None if remitted is None else proportion(remitted, n, minimum_cell),
    )
