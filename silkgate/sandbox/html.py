"""Sandbox reports as standalone HTML pages with inline SVG bar charts (no scripts, no
external assets), for the console and for attaching to a regulator's file."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

_BAR_HEIGHT = 22
_WIDTH = 560
_LABEL = 200
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:980px}"
    "h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}"
    "table{border-collapse:collapse}td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;"
    "text-align:left}svg text{font-size:12px}"
)


def bar_chart(title: str, values: Mapping[str, int | float]) -> str:
    """One horizontal bar per key, longest first; an empty mapping says so."""
    if not values:
        return f"<h2>{escape(title)}</h2><p>none</p>"
    items = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    top = max(v for _, v in items) or 1
    height = _BAR_HEIGHT * len(items) + 4
    rows = []
    for i, (label, value) in enumerate(items):
        y = i * _BAR_HEIGHT + 2
        width = max(1, int((_WIDTH - _LABEL - 60) * value / top))
        rows.append(
            f'<text x="0" y="{y + 15}">{escape(str(label))}</text>'
            f'<rect x="{_LABEL}" y="{y}" width="{width}" height="{_BAR_HEIGHT - 6}" '
            f'fill="#3b6ea8"><title>{escape(str(label))}: {value}</title></rect>'
            f'<text x="{_LABEL + width + 6}" y="{y + 15}">{value}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">{"".join(rows)}</svg>'
    )
    return f"<h2>{escape(title)}</h2>{svg}"


def summary_table(values: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in values.items()
    )
    return f"<table>{rows}</table>"


def page(title: str, summary: Mapping[str, Any], charts: Mapping[str, Mapping[str, int]]) -> str:
    body = summary_table(summary) + "".join(bar_chart(t, v) for t, v in charts.items())
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def replay_page(report: Mapping[str, Any]) -> str:
    summary = {k: report[k] for k in ("candidate_version", "records", "changed", "rounds")}
    charts = {
        "Changes (recorded → candidate)": report["by_change"],
        "Changed records by corridor": report["by_corridor"],
        "Changed records by product": report["by_product"],
        "Changed records by exporter": report["by_exporter"],
        "Outcomes as recorded": report["outcomes_before"],
        "Outcomes under the candidate": report["outcomes_after"],
    }
    return page("silkgate replay report", summary, charts)


def shadow_page(diffs: list[Mapping[str, Any]]) -> str:
    parts = []
    for d in diffs:
        summary = {k: d[k] for k in ("version", "records", "batches", "changed")}
        charts = {
            "Changes (active → shadow)": d["by_change"],
            "Changed records by corridor": d["by_corridor"],
            "Changed records by product": d["by_product"],
            "Changed records by exporter": d["by_exporter"],
        }
        parts.append(page(f"Shadow {d['version']}", summary, charts))
    if not parts:
        return page("silkgate shadow report", {"shadow versions": 0}, {})
    inner = "".join(p.split("<body>", 1)[1].rsplit("</body>", 1)[0] for p in parts)
    return parts[0].split("<body>", 1)[0] + "<body>" + inner + "</body></html>"


def cohort_page(report: Mapping[str, Any]) -> str:
    flowed = report["flowed"]
    summary = {
        "experiment": report["id"], "state": report["state"], "reason": report["reason"],
        "members": ", ".join(report["members"]), "overlay": report["overlay"],
        "records": flowed["records"], "individuals": flowed["individuals"],
        "caps": report["caps"], "incidents": len(report["incidents"]),
    }  # fmt: skip
    charts = {
        "Outcomes of what flowed": flowed["outcomes"],
        "What the overlay changed (ordinary → overlay)": report["overlay_changed"],
        "Records by product": flowed["by_product"],
        "Records by corridor": flowed["by_corridor"],
    }
    incidents = "".join(
        f"<tr><td>{escape(str(i['at']))}</td><td>{escape(i['kind'])}</td>"
        f"<td>{escape(i['detail'])}</td></tr>"
        for i in report["incidents"]
    )
    html = page(f"Experiment {report['id']}: exit report", summary, charts)
    return html.replace("</body>", f"<h2>Incidents</h2><table>{incidents}</table></body>")
