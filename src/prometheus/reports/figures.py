"""The investor pack's figures from the monthly marts' rows, and when to refuse (pure).

A row is a mapping of a mart's columns (``month`` a ``datetime.date``, the
first of the month). Nothing here reads a file: the command hands in the rows,
the as-reported versions and the build's status.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from prometheus.errors import CliError

Row = Mapping[str, Any]
Value = Decimal | float | int | None  # money is the marts' Decimal, to the cent

# the three investor marts, by the name the pack shows
MARTS: dict[str, str] = {
    "profit": "fct_profit_monthly",
    "growth": "fct_growth_monthly",
    "engagement": "fct_engagement_monthly",
}
TREND_MONTHS = 13
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Figure:
    """One headline figure: how it is read (money, count, rate, number) and from where."""

    key: str
    label: str
    mart: str  # a key of MARTS
    kind: str  # money | count | rate | number
    column: str | None = None  # the mart's column; None for a ratio computed below
    # how the quarter to date is made: "sum" the months, "ratio" of two sums, "weighted"
    # mean (by ``weight``), or None when the figure does not add up over months
    qtd: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    weight: str | None = None


FIGURES: tuple[Figure, ...] = (
    Figure("net_revenue", "Net revenue", "profit", "money", "net_revenue_usd", qtd="sum"),
    Figure("gross_profit", "Gross profit", "profit", "money", "gross_profit_usd", qtd="sum"),
    Figure(
        "gross_margin", "Gross margin", "profit", "rate", "gross_margin_rate", qtd="ratio",
        numerator="gross_profit_usd", denominator="net_revenue_usd",
    ),
    Figure(
        "contribution_profit", "Contribution profit", "profit", "money",
        "contribution_profit_usd", qtd="sum",
    ),
    Figure(
        "contribution_margin", "Contribution margin", "profit", "rate", None, qtd="ratio",
        numerator="contribution_profit_usd", denominator="net_revenue_usd",
    ),
    Figure("mau", "Monthly active users", "growth", "count", "monthly_active_users"),
    Figure("mau_growth", "MAU growth", "growth", "rate", "mau_growth_rate"),
    Figure("new_users", "New users", "growth", "count", "new_users", qtd="sum"),
    Figure("stickiness", "Stickiness (DAU/MAU)", "engagement", "rate", "stickiness_rate"),
    Figure("sessions", "Sessions", "engagement", "count", "sessions", qtd="sum"),
    Figure(
        "sessions_per_user", "Sessions per active user", "engagement", "number",
        "sessions_per_active_user",
    ),
    Figure(
        "minutes_per_session", "Minutes per session", "engagement", "number",
        "avg_session_minutes", qtd="weighted", weight="sessions",
    ),
)  # fmt: skip


def parse_month(text: str) -> date:
    """``YYYY-MM`` -> the first of that month; CliError otherwise."""
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise CliError(f"--month must be a month as YYYY-MM (for example 2024-08), got {text!r}")
    return date(int(match[1]), int(match[2]), 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _as_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value  # type: ignore[no-any-return]


def by_month(rows: Sequence[Row]) -> dict[date, Row]:
    return {_as_date(row["month"]): row for row in rows}


def last_closed_month(marts: Mapping[str, Sequence[Row]]) -> date | None:
    """The latest month every investor mart has closed, or None."""
    closed: set[date] | None = None
    for name in MARTS:
        months = {m for m, row in by_month(marts.get(name, ())).items() if row["is_closed"]}
        closed = months if closed is None else closed & months
    return max(closed) if closed else None


@dataclass(frozen=True)
class BuildStatus:
    """What the build that produced the figures says about them."""

    source: str  # where this was read: run history or target dir, and the invocation
    held_back: frozenset[str]  # model names skipped (a blocking test failed): last good rows
    # mart model name -> (test name, status) of every test on its lineage that warned/failed
    lineage_problems: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def refuse_held_back(status: BuildStatus, models: Sequence[str], what: str) -> None:
    """CliError when a model whose figures ``what`` shows was held back by the build."""
    held = sorted(set(models) & status.held_back)
    if not held:
        return
    problems = sorted({f"{t} ({s})" for m in held for t, s in status.lineage_problems.get(m, ())})
    because = f"; tests on their lineage: {', '.join(problems)}" if problems else ""
    raise CliError(
        f"{what} would show figures the build held back ({', '.join(held)}: a blocking test "
        f"failed, so they keep the last good rows, not this build's){because} [{status.source}]"
    )


def check_month(marts: Mapping[str, Sequence[Row]], month: date) -> None:
    """CliError when a mart has no row for ``month`` or the month is not closed."""
    shown = month_text(month)
    missing = [MARTS[n] for n in MARTS if month not in by_month(marts.get(n, ()))]
    if len(missing) == len(MARTS):
        months = sorted(m for n in MARTS for m in by_month(marts.get(n, ())))
        span = (
            f" (the marts hold {month_text(months[0])}..{month_text(months[-1])})" if months else ""
        )
        raise CliError(f"no data for {shown}: no investor mart has a row for it{span}")
    if missing:
        raise CliError(f"no data for {shown} in {', '.join(missing)}")
    for name in MARTS:
        row = by_month(marts[name])[month]
        if not row["is_closed"]:
            days, of = row["days_with_data"], row["days_in_period"]
            why = (
                f"data on {days} of {of} days"
                if days is None or of is None or days < of
                else "data on every day, but the late-data window had not passed at the build"
            )
            last = last_closed_month(marts)
            raise CliError(
                f"{shown} is open in {MARTS[name]} ({why}): the pack shows closed months only; "
                f"the last closed month is {month_text(last) if last else 'none yet'}"
            )


def value(figure: Figure, row: Row | None) -> Value:
    """The figure's value in one month's row (None: no row, or the mart's null)."""
    if row is None:
        return None
    if figure.column is not None:
        raw = row[figure.column]
        return None if raw is None else raw
    num, den = row[figure.numerator or ""], row[figure.denominator or ""]
    return None if num is None or not den else float(num) / float(den)


def quarter_to_date(figure: Figure, rows: Mapping[date, Row], month: date) -> Value:
    """The figure over the quarter's months up to ``month`` (None when it does not add up)."""
    first = date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    months = [add_months(first, i) for i in range((month.month - first.month) + 1)]
    chosen = [rows[m] for m in months if m in rows]
    if figure.qtd is None or len(chosen) != len(months):
        return None
    if figure.qtd == "sum":
        col = figure.column or ""
        return sum(r[col] for r in chosen)  # type: ignore[no-any-return]
    if figure.qtd == "ratio":
        den = sum(float(r[figure.denominator or ""]) for r in chosen)
        return None if not den else sum(float(r[figure.numerator or ""]) for r in chosen) / den
    weights = [float(r[figure.weight or ""]) for r in chosen]
    if not sum(weights):
        return None
    col = figure.column or ""
    return sum(float(r[col]) * w for r, w in zip(chosen, weights, strict=True)) / sum(weights)


@dataclass(frozen=True)
class Headline:
    figure: Figure
    month: Value
    previous: Value
    last_year: Value
    quarter_to_date: Value
    completeness: float | None
    is_closed: bool
    restated: bool | None  # None: unknown (no as-reported snapshots at hand)
    lineage_problems: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Pack:
    month: date
    headlines: tuple[Headline, ...]
    trend_months: tuple[date, ...]  # the closed months the charts show, oldest first
    trends: Mapping[str, tuple[Value, ...]]  # figure key -> values
    status: BuildStatus


def assemble(
    marts: Mapping[str, Sequence[Row]],
    month: date,
    restated: Mapping[str, frozenset[date]] | None,
    status: BuildStatus,
) -> Pack:
    """The pack for a closed ``month``, or CliError (open, no data, held back).

    ``restated``: mart key -> months with more than one as-reported version (None: the
    as-reported snapshots could not be read, so whether a figure was restated is unknown)."""
    refuse_held_back(status, list(MARTS.values()), f"the pack for {month_text(month)}")
    check_month(marts, month)
    rows = {name: by_month(marts[name]) for name in MARTS}
    headlines = []
    for figure in FIGURES:
        mart_rows = rows[figure.mart]
        row = mart_rows[month]
        headlines.append(
            Headline(
                figure=figure,
                month=value(figure, row),
                previous=value(figure, mart_rows.get(add_months(month, -1))),
                last_year=value(figure, mart_rows.get(add_months(month, -12))),
                quarter_to_date=quarter_to_date(figure, mart_rows, month),
                completeness=row["input_completeness_rate"],
                is_closed=bool(row["is_closed"]),
                restated=None if restated is None else month in restated.get(figure.mart, ()),
                lineage_problems=tuple(status.lineage_problems.get(MARTS[figure.mart], ())),
            )
        )
    closed = sorted(
        m
        for m in rows["profit"]
        if m <= month and all(m in rows[n] and rows[n][m]["is_closed"] for n in MARTS)
    )[-TREND_MONTHS:]
    trends = {f.key: tuple(value(f, rows[f.mart][m]) for m in closed) for f in FIGURES}
    return Pack(month, tuple(headlines), tuple(closed), trends, status)
