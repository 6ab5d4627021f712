"""Small, dependency-free SVG charts for the report (bar charts and a cumulative line with a target).

Each function returns an SVG document; `data_uri` embeds it as an image so the HTML stays a single
self-contained file that Chromium prints as crisp vectors.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#6c3483", "#d35400", "#1f7a8c", "#b7950b", "#2e86c1", "#a93226", "#229954", "#7f8c8d")
FONT = "font-family='Noto Sans, DejaVu Sans, Arial, sans-serif'"


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def nice_step(value: float) -> int:
    """A whole-number axis step at or above `value`: 1, 2 or 5 × 10^n."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(int(m * power) for m in (1, 2, 5, 10) if value <= m * power)


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}' role='img' {FONT}><title>{escape(title)}</title>"
            f"<rect width='100%' height='100%' fill='white'/>{''.join(body)}</svg>")


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, width: int = 640, bar_h: int = 26,
              label_w: int = 150, fmt: Callable[[float], str] = lambda v: f"{v:,.0f}".replace(",", ".")) -> str:
    """Horizontal bars, one per (label, value), with the value printed at the bar's end."""
    height = max(1, len(items)) * (bar_h + 8) + 16
    top = max((v for _, v in items), default=0) or 1
    span = width - label_w - 70
    body = []
    for i, (label, value) in enumerate(items):
        y = 8 + i * (bar_h + 8)
        w = max(2.0, span * value / top) if value else 0
        color = PALETTE[i % len(PALETTE)]
        body.append(f"<text x='{label_w - 8}' y='{y + bar_h * 0.68:.1f}' font-size='13' text-anchor='end' "
                    f"fill='#222'>{escape(label)}</text>"
                    f"<rect x='{label_w}' y='{y}' width='{w:.1f}' height='{bar_h}' rx='3' fill='{color}'/>"
                    f"<text x='{label_w + w + 6:.1f}' y='{y + bar_h * 0.68:.1f}' font-size='13' "
                    f"fill='#222'>{escape(fmt(value))}</text>")
    if not items:
        body.append(f"<text x='{width / 2}' y='{height / 2 + 4}' font-size='13' text-anchor='middle' "
                    "fill='#777'>—</text>")
    return _svg(width, height, body, title)


def cumulative_chart(months: Sequence[str], values: Sequence[int], *, start_value: int, target: int,
                     title: str, target_label: str, width: int = 640, height: int = 260) -> str:
    """A cumulative line over months (starting at `start_value`) with a dashed target line."""
    left, right, top_pad, bottom = 56, 20, 16, 40
    cumulative, total = [], start_value
    for value in values:
        total += value
        cumulative.append(total)
    highest = max([start_value, *cumulative])
    # A target far above the line would flatten it: then scale to the line and name the target.
    target_in_view = target <= 2.5 * highest
    step = nice_step((max(target, highest) if target_in_view else highest * 1.15) / 4)
    ticks = max(1, math.ceil((max(target, highest) if target_in_view else highest * 1.15) / step))
    y_max = step * ticks
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / y_max)

    def x(i: int) -> float:
        return left + (plot_w * i / max(1, len(months) - 1) if len(months) > 1 else plot_w / 2)

    body = []
    for k in range(ticks + 1):
        v = step * k
        body.append(f"<line x1='{left}' x2='{width - right}' y1='{y(v):.1f}' y2='{y(v):.1f}' stroke='#e3e3e3'/>"
                    f"<text x='{left - 6}' y='{y(v) + 4:.1f}' font-size='11' text-anchor='end' "
                    f"fill='#555'>{v:,.0f}</text>".replace(",", "."))
    if target and target_in_view:  # target 0: no plan for this view, no line
        body.append(f"<line x1='{left}' x2='{width - right}' y1='{y(target):.1f}' y2='{y(target):.1f}' "
                    f"stroke='#a93226' stroke-width='1.5' stroke-dasharray='6 4'/>"
                    f"<text x='{width - right}' y='{y(target) - 6:.1f}' font-size='12' text-anchor='end' "
                    f"fill='#a93226'>{escape(target_label)}</text>")
    elif target:
        body.append(f"<text x='{width - right}' y='{top_pad + 2}' font-size='12' text-anchor='end' "
                    f"fill='#a93226'>{escape(target_label)} ↑</text>")
    if cumulative:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(cumulative))
        body.append(f"<polyline points='{points}' fill='none' stroke='#6c3483' stroke-width='2.5'/>")
        body += [f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='3' fill='#6c3483'/>"
                 for i, v in enumerate(cumulative)]
    step = max(1, math.ceil(len(months) / 8))
    for i, month in enumerate(months):
        if i % step == 0 or i == len(months) - 1:
            body.append(f"<text x='{x(i):.1f}' y='{height - bottom + 18}' font-size='11' "
                        f"text-anchor='middle' fill='#555'>{escape(month)}</text>")
    return _svg(width, height, body, title)
