"""The pack's figures and refusals on literal rows (fast, no files)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from prometheus.errors import CliError
from prometheus.reports import figures
from prometheus.reports.figures import BuildStatus
from prometheus.reports.page import fmt

CLEAN = BuildStatus(source="test", held_back=frozenset())


def marts(closed: dict[str, bool]) -> dict[str, list[dict[str, Any]]]:
    """Three marts with one row per month; revenue 100 x month number, and so on."""
    found: dict[str, list[dict[str, Any]]] = {"profit": [], "growth": [], "engagement": []}
    for text, is_closed in closed.items():
        month = figures.parse_month(text)
        common = {
            "month": month, "is_closed": is_closed, "input_completeness_rate": 1.0,
            "days_in_period": 30, "days_with_data": 30 if is_closed else 12,
        }  # fmt: skip
        n = month.month
        found["profit"].append(
            {**common, "net_revenue_usd": Decimal(100 * n), "gross_profit_usd": Decimal(40 * n),
             "contribution_profit_usd": Decimal(25 * n), "gross_margin_rate": 0.4}
        )  # fmt: skip
        found["growth"].append(
            {**common, "monthly_active_users": 10 * n, "new_users": n, "mau_growth_rate": None}
        )
        found["engagement"].append(
            {**common, "stickiness_rate": 0.2, "sessions": 100 * n,
             "sessions_per_active_user": 2.5, "avg_session_minutes": float(n)}
        )  # fmt: skip
    return found


YEAR = {f"2024-{m:02d}": True for m in range(1, 9)} | {"2023-08": True, "2024-09": False}


def _headline(pack: figures.Pack, key: str) -> figures.Headline:
    return next(h for h in pack.headlines if h.figure.key == key)


def test_last_closed_month_is_closed_in_every_mart() -> None:
    rows = marts(YEAR)
    assert figures.last_closed_month(rows) == date(2024, 8, 1)
    rows["growth"] = [
        {**r, "is_closed": r["month"] != date(2024, 8, 1) and r["is_closed"]}
        for r in rows["growth"]
    ]
    assert figures.last_closed_month(rows) == date(2024, 7, 1)


def test_headlines_month_previous_last_year_and_quarter_to_date() -> None:
    pack = figures.assemble(marts(YEAR), date(2024, 8, 1), {"profit": frozenset()}, CLEAN)
    revenue = _headline(pack, "net_revenue")
    assert (revenue.month, revenue.previous, revenue.last_year) == (800, 700, 800)
    assert revenue.quarter_to_date == Decimal(1500)  # July + August
    margin = _headline(pack, "contribution_margin")
    assert margin.month == pytest.approx(0.25, abs=1e-12)
    assert margin.quarter_to_date == pytest.approx((175 + 200) / 1500, abs=1e-12)
    minutes = _headline(pack, "minutes_per_session")
    assert minutes.quarter_to_date == pytest.approx((7 * 700 + 8 * 800) / 1500, abs=1e-12)
    assert _headline(pack, "mau").quarter_to_date is None  # not additive
    assert _headline(pack, "mau_growth").month is None  # the mart's null stays blank
    assert revenue.restated is False and _headline(pack, "mau").restated is False
    assert pack.trend_months[0] == date(2023, 8, 1) and pack.trend_months[-1] == date(2024, 8, 1)
    assert len(pack.trends["net_revenue"]) == 9


def test_no_last_year_row_is_blank_and_restated_is_flagged() -> None:
    rows = marts({k: v for k, v in YEAR.items() if k != "2023-08"})
    pack = figures.assemble(
        rows, date(2024, 8, 1), {"profit": frozenset({date(2024, 8, 1)})}, CLEAN
    )
    assert _headline(pack, "net_revenue").last_year is None
    assert _headline(pack, "net_revenue").restated is True
    assert _headline(pack, "new_users").restated is False
    unknown = figures.assemble(rows, date(2024, 8, 1), None, CLEAN)
    assert _headline(unknown, "net_revenue").restated is None


def test_quarter_to_date_needs_every_month_of_the_quarter() -> None:
    rows = marts({"2024-08": True, "2024-09": False})  # no July
    pack = figures.assemble(rows, date(2024, 8, 1), {}, CLEAN)
    assert _headline(pack, "net_revenue").quarter_to_date is None


def test_open_month_is_refused() -> None:
    with pytest.raises(
        CliError, match=r"2024-09 is open in fct_profit_monthly \(data on 12 of 30 days\).*2024-08"
    ):
        figures.assemble(marts(YEAR), date(2024, 9, 1), {}, CLEAN)


def test_open_month_with_every_day_names_the_late_data_window() -> None:
    rows = marts(YEAR)
    rows["profit"] = [{**r, "days_with_data": 30} for r in rows["profit"]]
    with pytest.raises(CliError, match="late-data window"):
        figures.check_month(rows, date(2024, 9, 1))


def test_month_without_data_is_refused() -> None:
    with pytest.raises(CliError, match=r"no data for 2022-01.*2023-08\.\.2024-09"):
        figures.assemble(marts(YEAR), date(2022, 1, 1), {}, CLEAN)
    rows = marts(YEAR)
    rows["growth"] = [r for r in rows["growth"] if r["month"] != date(2024, 8, 1)]
    with pytest.raises(CliError, match="no data for 2024-08 in fct_growth_monthly"):
        figures.check_month(rows, date(2024, 8, 1))


def test_held_back_marts_are_refused_with_the_failed_tests() -> None:
    status = BuildStatus(
        source="run_results.json of build x",
        held_back=frozenset({"fct_profit_monthly"}),
        lineage_problems={"fct_profit_monthly": (("unique_stg_orders_id", "fail"),)},
    )
    with pytest.raises(CliError, match=r"held back \(fct_profit_monthly.*unique_stg_orders_id"):
        figures.assemble(marts(YEAR), date(2024, 8, 1), {}, status)


def test_lineage_problems_are_carried_per_figure() -> None:
    status = BuildStatus(
        source="t", held_back=frozenset(),
        lineage_problems={"fct_growth_monthly": (("some_test", "warn"),)},
    )  # fmt: skip
    pack = figures.assemble(marts(YEAR), date(2024, 8, 1), {}, status)
    assert _headline(pack, "mau").lineage_problems == (("some_test", "warn"),)
    assert _headline(pack, "net_revenue").lineage_problems == ()


@pytest.mark.parametrize("text", ["2024-13", "2024-1", "24-08", "2024/08", "", "august"])
def test_malformed_month_is_refused(text: str) -> None:
    with pytest.raises(CliError, match="YYYY-MM"):
        figures.parse_month(text)


def test_month_arithmetic() -> None:
    assert figures.add_months(date(2024, 1, 1), -1) == date(2023, 12, 1)
    assert figures.add_months(date(2024, 8, 1), -12) == date(2023, 8, 1)
    assert figures.month_text(date(2024, 3, 1)) == "2024-03"


def test_formatting() -> None:
    assert fmt("money", Decimal("-8.485")) == "-$8.49"
    assert fmt("money", Decimal("253243.14")) == "$253,243.14"
    assert fmt("count", 1234) == "1,234"
    assert fmt("rate", 0.25581) == "25.58%"
    assert fmt("rate", None) == ""
    assert fmt("number", float("nan")) == ""
