"""The pack's and the readout's HTML: one self-contained file each, written atomically.

plotly's JavaScript is embedded once per page (``include_plotlyjs=True``), so
the page opens without a network. Every figure cell carries its exact value
in ``data-value`` (what tests compare with the marts) and shows it rounded.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prometheus.reports.figures import FIGURES, Headline, Pack, month_text
from prometheus.reports.readout import CONFIDENCE, Interval, Readout

Number = float | int | Decimal | None

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; }
h1 { margin-bottom: 0.2rem; } .sub { color: #52606d; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: 0.35rem 0.7rem; border-bottom: 1px solid #d9e2ec; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f4f8; }
.warn { color: #b44d12; } .ok { color: #2f8132; } .note { color: #52606d; font-size: 0.9rem; }
"""


def fmt(kind: str, value: Number) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind == "money":
        cents = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{'-' if cents < 0 else ''}${abs(cents):,}"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{float(value) * 100:.2f}%"
    return f"{float(value):,.2f}"


def cell(kind: str, value: Number, css: str = "") -> str:
    exact = "" if value is None else str(value)
    cls = f' class="{css}"' if css else ""
    return f'<td{cls} data-value="{html.escape(exact)}">{html.escape(fmt(kind, value))}</td>'


def _page(title: str, subtitle: str, body: str) -> str:
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p>'
        f'{body}<p class="note">Written {made} by prometheus.</p></body></html>\n'
    )


def _chart(fig: go.Figure, div_id: str, first: bool) -> str:
    # plotly's JavaScript once, inline, with the first chart; no CDN, no MathJax
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=bool(first),
            include_mathjax=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )
    )


def _caveats(headline: Headline) -> str:
    restated = {True: "restated", False: "as first reported", None: "unknown"}[headline.restated]
    tests = ", ".join(f"{name} ({status})" for name, status in headline.lineage_problems)
    return (
        cell("rate", headline.completeness)
        + f'<td class="{"ok" if headline.is_closed else "warn"}">'
        + ("closed" if headline.is_closed else "open")
        + f'</td><td class="{"warn" if headline.restated else ""}">{restated}</td>'
        + f'<td class="{"warn" if tests else "ok"}">{html.escape(tests or "none")}</td>'
    )


def render_pack(pack: Pack) -> str:
    month = month_text(pack.month)
    q = (pack.month.month - 1) // 3 + 1
    head = (
        "<thead><tr><th>Figure</th>"
        f"<th>{month}</th><th>Previous month</th><th>Same month last year</th>"
        f"<th>Q{q} {pack.month.year} to date</th><th>Completeness</th><th>Month</th>"
        "<th>Restated since first reported</th><th>Tests on its lineage warned/failed</th>"
        "</tr></thead>"
    )
    body_rows = []
    for h in pack.headlines:
        kind = h.figure.kind
        body_rows.append(
            f'<tr data-figure="{h.figure.key}"><td>{html.escape(h.figure.label)}</td>'
            + cell(kind, h.month).replace("<td", '<td data-col="month"', 1)
            + cell(kind, h.previous).replace("<td", '<td data-col="previous"', 1)
            + cell(kind, h.last_year).replace("<td", '<td data-col="last_year"', 1)
            + cell(kind, h.quarter_to_date).replace("<td", '<td data-col="qtd"', 1)
            + _caveats(h)
            + "</tr>"
        )
    table = f'<table id="headlines">{head}<tbody>{"".join(body_rows)}</tbody></table>'
    months = [month_text(m) for m in pack.trend_months]
    fig = make_subplots(
        rows=4, cols=3, subplot_titles=[f.label for f in FIGURES], vertical_spacing=0.08
    )
    for i, figure in enumerate(FIGURES):
        values = [None if v is None else float(v) for v in pack.trends[figure.key]]
        fig.add_trace(
            go.Scatter(x=months, y=values, mode="lines+markers", name=figure.label),
            row=i // 3 + 1,
            col=i % 3 + 1,
        )
    fig.update_layout(height=1000, showlegend=False, margin={"t": 40, "l": 40, "r": 20, "b": 30})
    charts = f"<h2>Trend over the last {len(months)} closed months</h2>" + _chart(
        fig, "trends", first=True
    )
    notes = (
        '<p class="note">Quarter to date: sums of the quarter\'s months (margins as ratios of '
        "the sums, minutes per session weighted by sessions); blank for figures that do not add "
        "up over months (MAU, growth, stickiness, sessions per user). Same month last year: "
        "blank when the marts have no such month. Build status from "
        f"{html.escape(pack.status.source)}."
        "</p>"
    )
    return _page(
        f"Investor pack {month}",
        "Profit, growth and engagement for the month, from the investor marts.",
        table + notes + charts,
    )


def _interval(kind: str, found: Interval | None) -> str:
    if found is None:
        return '<td data-value="">(control)</td><td></td>'
    diff = cell(kind, found.difference)
    ci = f"{fmt(kind, found.low)} to {fmt(kind, found.high)}" if not math.isnan(found.low) else ""
    return diff + f'<td data-low="{found.low}" data-high="{found.high}">{html.escape(ci)}</td>'


def render_readout(readout: Readout, held_back: Sequence[Mapping[str, Any]] | None) -> str:
    pct = f"{CONFIDENCE:.0%}"
    head = (
        "<thead><tr><th>Variant</th><th>Assigned users</th><th>Active users per day</th>"
        f"<th>vs control</th><th>{pct} CI</th>"
        "<th>Active per day per assigned user</th><th>vs control</th><th>"
        f"{pct} CI</th><th>Contribution profit per assigned user</th><th>vs control</th>"
        f"<th>{pct} CI</th></tr></thead>"
    )
    body = []
    for v in readout.variants:
        body.append(
            f'<tr data-variant="{html.escape(v.variant)}"><td>{html.escape(v.variant)}</td>'
            + cell("count", v.assigned_users).replace("<td", '<td data-col="assigned"', 1)
            + cell("number", v.active_users_per_day).replace("<td", '<td data-col="active"', 1)
            + _interval("number", v.active_vs_control)
            + cell("rate", v.active_rate)
            + _interval("rate", v.active_rate_vs_control)
            + cell("money", v.contribution_profit_per_assigned_user).replace(
                "<td", '<td data-col="profit_per_user"', 1
            )
            + _interval("money", v.profit_vs_control)
            + "</tr>"
        )
    table = f'<table id="variants">{head}<tbody>{"".join(body)}</tbody></table>'
    if held_back is None:
        held = "<p>The file read has no run history: the days held back are not known.</p>"
    elif not held_back:
        held = '<p class="ok">No stored build held the experiment marts back.</p>'
    else:
        items = "".join(
            f"<li>{html.escape(str(r['day']))}: {html.escape(str(r['models']))}</li>"
            for r in held_back
        )
        held = f'<ul class="warn" id="held-back">{items}</ul>'
    days = [d.isoformat() for d in readout.days]
    fig = go.Figure()
    for variant, values in readout.active_by_day.items():
        fig.add_trace(go.Scatter(x=days, y=list(values), mode="lines", name=variant))
    fig.update_layout(
        title="Active users per day", height=420, margin={"t": 50, "l": 40, "r": 20, "b": 30}
    )
    bars = go.Figure(
        go.Bar(
            x=[v.variant for v in readout.variants],
            y=[v.contribution_profit_per_assigned_user for v in readout.variants],
        )
    )
    bars.update_layout(
        title="Contribution profit per assigned user (USD)",
        height=360,
        margin={"t": 50, "l": 40, "r": 20, "b": 30},
    )
    notes = (
        f'<p class="note">Differences are variant minus control, with {pct} Welch t-intervals '
        "(scipy.stats): per assigned user for profit (users without an order count as zero), "
        "per day for active users and the active share.</p>"
    )
    return _page(
        f"Experiment readout: {readout.experiment_name} ({readout.experiment_id})",
        f"{readout.first_day} to {readout.last_day}, {len(readout.days)} days.",
        table
        + notes
        + "<h2>Days the experiment marts were held back</h2>"
        + held
        + _chart(fig, "active-by-day", first=True)
        + _chart(bars, "profit-per-user", first=False),
    )


def write_atomically(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep the page from its readers
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
