"""Geometry for a trajectory chart (server-side SVG). Pure logic: no Django here."""

from __future__ import annotations

from dataclasses import dataclass

from openiop.measures.scoring import Instrument

WIDTH, HEIGHT = 560, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 10, 28
BAND_SHADES = ("#e8f5e9", "#fffde7", "#fff3e0", "#fde0dc", "#f8c9c4")


@dataclass(frozen=True)
class Rect:
    y: float
    height: float
    fill: str
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    label: str  # e.g. "week 3"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bands: list[Rect]
    points: list[Point]
    polyline: str
    baseline_y: float | None
    y_ticks: list[tuple[float, int]]
    plot_left: int
    plot_right: int
    plot_bottom: int
    last_week: int


def maximum(instrument: Instrument | None, values: list[int]) -> int:
    if instrument is not None and instrument.has_total:
        return sum(max(item.scores) for item in instrument.scored_items)
    return max([*values, 1])


def build(instrument: Instrument | None, weeks: list[int], values: list[int], baseline: int | None) -> Chart:
    """Points at (week, value); severity bands shaded; the baseline as a line."""
    top = maximum(instrument, values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    last_week = max([*weeks, 2])

    def y(value: float) -> float:
        return round(TOP + plot_h - plot_h * value / top, 1)

    def x(week: int) -> float:
        return round(LEFT + plot_w * (week - 1) / (last_week - 1), 1)  # week 1 at the left edge

    bands = []
    if instrument is not None:
        shades: tuple[str, ...] = BAND_SHADES[::-1] if instrument.higher_is_better else BAND_SHADES
        if instrument.higher_is_better:
            shades = shades[len(BAND_SHADES) - len(instrument.bands) :]
        for index, band in enumerate(instrument.bands):
            low, high = band.low, min(band.high + 1, top)
            bands.append(Rect(y(high), round(y(low) - y(high), 1), shades[index % len(shades)], band.name))
    points = [Point(x(w), y(v), v, f"week {w}") for w, v in zip(weeks, values, strict=True)]
    polyline = " ".join(f"{p.x},{p.y}" for p in points)
    step = max(1, top // 4)
    ticks = [(y(v), v) for v in range(0, top + 1, step)]
    return Chart(
        WIDTH,
        HEIGHT,
        bands,
        points,
        polyline,
        y(baseline) if baseline is not None else None,
        ticks,
        LEFT,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
        last_week,
    )
