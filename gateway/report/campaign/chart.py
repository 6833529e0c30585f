"""The daily trend as an inline SVG bar chart: exchanges per day, passed, failed and not
validated stacked. Drawn on the server, so the report and the dashboard need no script."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from gateway.store.summary import Day

WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 48, 28, 10


def trend_chart(days: Sequence[Day]) -> str:
    if not days:
        return ""
    highest = max(day.exchanges for day in days) or 1
    plot_width = WIDTH - LEFT - 8
    plot_height = HEIGHT - BOTTOM - TOP
    step = plot_width / len(days)
    bar = min(max(step * 0.7, 1.0), 48.0)
    # A date under every bar while they fit, else under every n-th.
    label_every = max(1, round(len(days) / 12))
    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="trend-title" xmlns="http://www.w3.org/2000/svg">',
        '<title id="trend-title">Exchanges per day: passed, failed, not validated</title>',
        f'<line x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - 8}" y2="{TOP + plot_height}"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 8}" text-anchor="end">{highest}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_height}" text-anchor="end">0</text>',
    ]
    for index, day in enumerate(days):
        x = LEFT + index * step + (step - bar) / 2
        bottom = float(TOP + plot_height)
        skipped = day.exchanges - day.passed - day.failed
        for kind, count in (("passed", day.passed), ("failed", day.failed), ("skipped", skipped)):
            if count <= 0:
                continue
            height = count / highest * plot_height
            bottom -= height
            parts.append(
                f'<rect class="{kind}" x="{x:.1f}" y="{bottom:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}"><title>{day.day.isoformat()}: {count} {kind}</title></rect>'
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
                f"{escape(day.day.strftime('%m-%d'))}</text>"
            )
    parts.append("</svg>")
    legend = (
        '<p class="legend"><span><i class="passed"></i>passed</span>'
        '<span><i class="failed"></i>failed</span>'
        '<span><i class="skipped"></i>not validated</span></p>'
    )
    return "".join(parts) + legend
