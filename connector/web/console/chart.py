"""The health page's chart, drawn on the server as SVG: one line per series, a minute per step.

No script and no style attribute (the console's Content-Security-Policy allows neither inline):
colours come from presentation attributes, and each series also has its own dash pattern and
marker so the chart does not rely on colour alone. The same numbers are on the page as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

from ...store.activity import SERIES, Activity

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 36


@dataclass(frozen=True)
class Look:
    label: str
    colour: str
    dash: str  # stroke-dasharray; "" for solid


LOOKS = {
    "sent": Look("Sent (Kaleyra accepted)", "#1f6feb", ""),
    "delivered": Look("Delivered", "#1a7f37", "6 3"),
    "read": Look("Read", "#8250df", "2 3"),
    "failed": Look("Failed", "#cf222e", "10 3 2 3"),
}


def _y_top(peak: int) -> int:
    """A round axis maximum at or above ``peak``."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        top = step * 4
        if peak <= top:
            return max(top, 4)
    return ((peak // 10_000) + 1) * 10_000


def render(activity: Activity) -> Markup:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = _y_top(activity.peak)
    step = plot_w / max(1, activity.minutes - 1)

    def x(i: int) -> float:
        return round(LEFT + i * step, 1)

    def y(value: int) -> float:
        return round(TOP + plot_h - value / top * plot_h, 1)

    totals = ", ".join(f"{name} {activity.total(name)}" for name in SERIES)
    start = datetime.fromtimestamp(activity.start_ms / 1000, UTC).strftime("%H:%M")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-labelledby="chart-title chart-desc">',
        '<title id="chart-title">Messages per minute, last hour</title>',
        f'<desc id="chart-desc">{activity.minutes} minutes from {start} UTC. '
        f"Totals: {escape(totals)}.</desc>",
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        value = round(top * fraction)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value)}" y2="{y(value)}" '
            f'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4}" text-anchor="end" font-size="11" '
            f'fill="#57606a">{value}</text>'
        )
    for i, label in (
        (0, f"−{activity.minutes} min"),
        (activity.minutes // 2, "−30 min"),
        (activity.minutes - 1, "now"),
    ):
        parts.append(
            f'<text x="{x(i)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
            f'fill="#57606a">{label}</text>'
        )
    for name in SERIES:
        look = LOOKS[name]
        points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(activity.series[name]))
        dash = f' stroke-dasharray="{look.dash}"' if look.dash else ""
        parts.append(
            f'<polyline class="series series-{name}" points="{points}" fill="none" '
            f'stroke="{look.colour}" stroke-width="2"{dash}><title>{escape(look.label)}: '
            f"{activity.total(name)} in the last hour</title></polyline>"
        )
    legend_x = LEFT
    for name in SERIES:
        look = LOOKS[name]
        dash = f' stroke-dasharray="{look.dash}"' if look.dash else ""
        y_legend = HEIGHT - 8
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 22}" y1="{y_legend - 4}" '
            f'y2="{y_legend - 4}" stroke="{look.colour}" stroke-width="2"{dash}/>'
            f'<text x="{legend_x + 28}" y="{y_legend}" font-size="11" fill="#24292f">'
            f"{escape(look.label)}</text>"
        )
        legend_x += 36 + len(look.label) * 6
    parts.append("</svg>")
    return Markup("".join(parts))
