"""Charts drawn on the server as SVG: bars per week, or bars per kind. No script and no style
attribute (the Content-Security-Policy refuses them): colours come from classes in
static/css/reports.css. Each chart is an image with a title and a description for screen
readers; the table beside it carries the numbers."""

import math
from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from goodskin import when

WIDTH = 760
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 58
# At most this many week labels under the axis; the others are left out (the table has all).
MAX_LABELS = 12


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]
    # Drawn on top of the series before it (parts of one whole); otherwise from zero, over the
    # earlier ones (a part of the whole drawn before it).
    stacked: bool = False
    # Its colour (gs-series-<tone> in reports.css): 0 light for a whole, 1 dark for a part, 2
    # orange for what went wrong (no-shows late, stopped, failed).
    tone: int = 0


def nice_top(largest: float) -> tuple[float, float]:
    """The axis' top and its step: 1, 2 or 5 times a power of ten, about four steps."""
    if largest <= 0:
        return 1, 1
    raw = largest / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if step < 1 and largest >= 1:
        step = 1
    return step * math.ceil(largest / step), step


def number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _open(chart_id: str, height: int, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gs-chart" viewBox="0 0 {WIDTH} {height}"'
        f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def _y_axis(parts: list[str], top_value: float, step: float, plot_h: float, unit: str) -> None:
    plot_w = WIDTH - LEFT - RIGHT
    ticks = int(round(top_value / step))
    for n in range(ticks + 1):
        value = step * n
        y = TOP + plot_h - plot_h * value / top_value
        parts.append(
            f'<line class="gs-chart-grid" x1="{LEFT}" x2="{LEFT + plot_w}"'
            f' y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="gs-chart-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{number(value)}</text>"
        )
    middle = TOP + plot_h / 2
    parts.append(
        f'<text class="gs-chart-axis-title" x="14" y="{middle:.1f}" text-anchor="middle"'
        f' transform="rotate(-90 14 {middle:.1f})">{escape(unit)}</text>'
    )


def week_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    weeks: list[date],
    series: list[Series],
    unit: str,
) -> SafeString:
    """A column per week (a group of bars: the series drawn over or on top of each other)."""
    height = 300
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    tops = [[0.0] * len(weeks) for _ in series]
    for s, line in enumerate(series):
        for w, value in enumerate(line.values):
            below = tops[s - 1][w] if line.stacked and s else 0
            tops[s][w] = below + (value or 0)
    top_value, step = nice_top(max((max(t) for t in tops if t), default=0))
    parts = _open(chart_id, height, title, description)
    _y_axis(parts, top_value, step, plot_h, unit)
    slot = plot_w / max(len(weeks), 1)
    bar = max(slot * 0.7, 1)
    every = math.ceil(len(weeks) / MAX_LABELS)
    for w, week in enumerate(weeks):
        x = LEFT + slot * w + (slot - bar) / 2
        parts.append(f'<g class="gs-week" data-week="{week.isoformat()}">')
        for s, line in enumerate(series):
            value = line.values[w] or 0
            if not value:
                continue
            bottom = tops[s][w] - value
            y = TOP + plot_h - plot_h * tops[s][w] / top_value
            h = plot_h * value / top_value
            label = _("Week of %(day)s: %(what)s %(n)s") % {
                "day": when.birthday(week),
                "what": line.label,
                "n": number(value),
            }
            parts.append(
                f'<rect class="gs-bar gs-series-{line.tone}" x="{x:.1f}" y="{y:.1f}"'
                f' width="{bar:.1f}" height="{h:.1f}" data-from="{number(bottom)}">'
                f"<title>{escape(label)}</title></rect>"
            )
        parts.append("</g>")
        if w % every == 0:
            center = LEFT + slot * w + slot / 2
            # The year under every label: the labels read one after the other stay days
            # ("21 sep 2026 28 sep 2026", never "sep 28"), and a long period shows its years.
            year = f'<tspan x="{center:.1f}" dy="13">{week.year}</tspan>'
            parts.append(
                f'<text class="gs-chart-tick" x="{center:.1f}" y="{TOP + plot_h + 16}"'
                f' text-anchor="middle">{escape(when.short_month_day(week))}{year}</text>'
            )
    parts.append(
        f'<line class="gs-chart-axis" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}"'
        f' y2="{TOP + plot_h}"/>'
    )
    parts.append(
        f'<text class="gs-chart-axis-title" x="{LEFT + plot_w / 2:.1f}" y="{height - 6}"'
        f' text-anchor="middle">{escape(_("Week starting"))}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


def kind_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    values: list[float],
    unit: str,
) -> SafeString:
    """A bar per kind, across the page, its value at its end."""
    left, row = 250, 24
    height = TOP + row * len(labels) + 44
    plot_w = WIDTH - left - RIGHT - 40
    top_value, step = nice_top(max(values, default=0))
    parts = _open(chart_id, height, title, description)
    bottom = TOP + row * len(labels)
    for n in range(int(round(top_value / step)) + 1):
        x = left + plot_w * step * n / top_value
        parts.append(
            f'<line class="gs-chart-grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{bottom}"/>'
        )
        parts.append(
            f'<text class="gs-chart-tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{number(step * n)}</text>"
        )
    for n, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + row * n
        width = plot_w * (value or 0) / top_value
        parts.append('<g class="gs-kind">')
        parts.append(
            f'<text class="gs-chart-label" x="{left - 8}" y="{y + row / 2 + 4:.1f}"'
            f' text-anchor="end">{escape(label)}</text>'
        )
        if value:
            parts.append(
                f'<rect class="gs-bar gs-series-0" x="{left}" y="{y + 4}" width="{width:.1f}"'
                f' height="{row - 8}"><title>{escape(label)}: {number(value)}</title></rect>'
            )
        parts.append(
            f'<text class="gs-chart-value" x="{left + width + 6:.1f}" y="{y + row / 2 + 4:.1f}">'
            f"{number(value or 0)}</text></g>"
        )
    parts.append(f'<line class="gs-chart-axis" x1="{left}" x2="{left}" y1="{TOP}" y2="{bottom}"/>')
    parts.append(
        f'<text class="gs-chart-axis-title" x="{left + plot_w / 2:.1f}" y="{height - 6}"'
        f' text-anchor="middle">{escape(unit)}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped
