"""Server-side SVG charts: no JavaScript, readable by screen readers (a <title>, a <desc> and one labelled
link per bar), printable. Pure Python; no Django imports. Text passed in is escaped here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar, e.g. "Nov 2"
    value: float
    href: str = ""  # drill-down link
    description: str = ""  # what a screen reader hears, e.g. "Week of Nov 2: 4 admissions"


def _nice_max(value: float) -> float:
    """The top of the value axis: four equal whole-number steps, each a round number, covering `value`."""
    wanted = max(value, 0) / 4
    magnitude = 10 ** max(0, math.floor(math.log10(wanted))) if wanted >= 1 else 1
    for multiple in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = multiple * magnitude
        if step >= wanted and float(step).is_integer():
            return float(step * 4)
    return float(10 * magnitude * 4)


def bar_chart(
    bars: list[Bar], *, title: str, description: str, width: int = 640, height: int = 220, unit: str = ""
) -> str:
    """A vertical bar chart with a value over each bar and a light grid."""
    left, right, top, bottom = 36, 8, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((bar.value for bar in bars), default=0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart"'
        f' aria-labelledby="t d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(description)}</desc>',
    ]
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="axis">{_fmt(value)}</text>')
    if bars:
        slot = plot_w / len(bars)
        bar_w = max(2.0, min(48.0, slot * 0.7))
        label_every = max(1, round(len(bars) / 12))
        for index, bar in enumerate(bars):
            x = left + slot * index + (slot - bar_w) / 2
            h = plot_h * (bar.value / peak) if peak else 0
            y = top + plot_h - h
            rect = (
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{max(h, 0.5):.1f}" class="bar">'
                f"<title>{escape(bar.description or f'{bar.label}: {_fmt(bar.value)}{unit}')}</title></rect>"
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" class="value">'
                f"{_fmt(bar.value)}</text>"
            )
            if bar.href:
                label = escape(bar.description or f"{bar.label}: {_fmt(bar.value)}{unit}", quote=True)
                rect = f'<a href="{escape(bar.href, quote=True)}" aria-label="{label}">{rect}</a>'
            parts.append(rect)
            if index % label_every == 0:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" class="axis">'
                    f"{escape(bar.label)}</text>"
                )
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
