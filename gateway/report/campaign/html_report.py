"""The campaign report as one standalone HTML file: styles inline, the trend an inline SVG, no
script and nothing fetched, so it can be attached to a ticket or opened offline."""

from __future__ import annotations

from html import escape
from importlib.resources import files

from gateway.report.campaign import gdm_usage, next_delivery
from gateway.report.campaign.html_parts import moment, sections, window_title
from gateway.store.summary import Summary


def stylesheet() -> str:
    return (files("gateway.report.campaign") / "static" / "campaign.css").read_text("utf-8")


def html_report(summary: Summary, store: str) -> str:
    title = f"SNE campaign report, {window_title(summary)}"
    if summary.empty:
        body = (
            '<p class="banner warn">No exchange was recorded in this window: nothing to report.</p>'
        )
    else:
        body = (
            sections(summary)
            + next_delivery.html_section(summary.next_set)
            + gdm_usage.html_section(summary.gdm)
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{stylesheet()}</style></head><body>"
        f'<h1>SNE campaign report</h1><p class="subtitle">{escape(window_title(summary))}</p>'
        f"{body}<footer>Made by sne-gateway report at {moment(summary.made_at_ms)} from "
        f"<code>{escape(store)}</code>. No element value is ever stored.</footer>"
        "</body></html>\n"
    )
