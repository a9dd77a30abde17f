"""Every figure on the pages equals its mart, on the session's clean build (slow tier).

Money to the cent, counts exactly, rates to 1e-9. The clean build's last closed
month is 2024-08 (data 2024-01..2024-09, as of 2024-10-01T06:00).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from report_pages import CLEAN_LAST_CLOSED, EXPERIMENTS, Pages, cells, mart, on_build, prometheus

from prometheus.reports.figures import FIGURES

from dbt_harness import Build

MONTHS = {"month": "2024-08-01", "previous": "2024-07-01", "last_year": "2023-08-01"}
QUARTER = ("2024-07-01", "2024-08-01")
COLUMNS = {
    f.key: f.column or f"{f.numerator} / {f.denominator}" for f in FIGURES
}  # contribution margin: the mart's contribution profit over its net revenue
SCHEMA = {"profit": "profit.fct_profit_monthly", "growth": "growth.fct_growth_monthly",
          "engagement": "engagement.fct_engagement_monthly"}  # fmt: skip


def _equal(kind: str, shown: str, expected: Any) -> None:
    if expected is None:
        assert shown == ""
    elif kind == "money":
        assert Decimal(shown) == Decimal(str(expected)).quantize(Decimal("0.01"))
    elif kind == "count":
        assert int(shown) == expected
    else:
        assert float(shown) == pytest.approx(float(expected), abs=1e-9)


def test_the_pack_is_for_the_last_closed_month(pages: Pages) -> None:
    assert pages.pack_stdout.strip() == str(pages.pack)
    assert f"Investor pack {CLEAN_LAST_CLOSED}" in pages.pack.read_text()


def test_each_headline_figure_equals_its_mart(clean_build: Build, pages: Pages) -> None:
    shown = cells(pages.pack.read_text(), "data-figure")
    assert set(shown) == {f.key for f in FIGURES}
    compared = 0
    for figure in FIGURES:
        table = SCHEMA[figure.mart]
        for col, month in MONTHS.items():
            found = mart(
                clean_build, f"select {COLUMNS[figure.key]} from {table} where month = '{month}'"
            )
            expected = found[0][0] if found else None  # no 2023-08: blank
            _equal(figure.kind, shown[figure.key][col], expected)
            compared += expected is not None
        months = ", ".join(f"'{m}'" for m in QUARTER)
        if figure.qtd == "sum":
            sql = f"select sum({figure.column}) from {table} where month in ({months})"
        elif figure.qtd == "ratio":
            sql = (
                f"select sum({figure.numerator}) / sum({figure.denominator}) from {table} "
                f"where month in ({months})"
            )
        elif figure.qtd == "weighted":
            sql = (
                f"select sum({figure.column} * {figure.weight}) / sum({figure.weight}) "
                f"from {table} where month in ({months})"
            )
        else:
            assert shown[figure.key]["qtd"] == ""
            continue
        _equal(figure.kind, shown[figure.key]["qtd"], mart(clean_build, sql)[0][0])
    assert compared == 2 * len(FIGURES)  # this month and the previous one, every figure


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_each_readout_figure_equals_its_mart(
    clean_build: Build, pages: Pages, experiment: str
) -> None:
    shown = cells(pages.readouts[experiment].read_text(), "data-variant")
    growth = mart(
        clean_build,
        "select variant, max_by(assigned_users, activity_date), avg(active_users) "
        "from growth.fct_experiment_growth_daily "
        f"where experiment_id = '{experiment}' group by variant",
    )
    profit: dict[str, Any] = dict(
        mart(
            clean_build,
            "select variant, sum(contribution_profit_usd) "
            "from profit.fct_experiment_order_item_profit "
            f"where experiment_id = '{experiment}' group by variant",
        )
    )
    assert set(shown) == {variant for variant, _, _ in growth}
    for variant, assigned, active in growth:
        assert int(shown[variant]["assigned"]) == assigned
        assert float(shown[variant]["active"]) == pytest.approx(active, abs=1e-9)
        per_user = float(profit.get(variant, 0)) / assigned
        assert float(shown[variant]["profit_per_user"]) == pytest.approx(per_user, abs=1e-9)


def test_the_pack_from_the_published_copy_shows_the_same_figures(
    clean_build: Build, pages: Pages, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path_factory.mktemp("published")
    published = out / "published.duckdb"
    env_args = ["--target-dir", str(clean_build.target_dir)]
    done = prometheus(
        clean_build, "publish", *env_args, "--duckdb-path", str(clean_build.duckdb_path),
        "--published-path", str(published),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ran = prometheus(
        clean_build, "pack", "--duckdb", str(published), *env_args, "--out", str(out / "p.html")
    )
    assert ran.returncode == 0, ran.stderr
    html = (out / "p.html").read_text()
    assert cells(html, "data-figure") == cells(pages.pack.read_text(), "data-figure")
    assert "publication of build" in html and "tests from its run_results.json" in html
    assert "as first reported" in html  # the snapshots came from the build file


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["pack", "--month", "2024-09"], "2024-09 is open in fct_profit_monthly"),
        (["pack", "--month", "2023-02"], "no data for 2023-02"),
        (["pack", "--month", "2024-8"], "--month must be a month as YYYY-MM"),
        (["pack", "--month", "August"], "--month must be a month as YYYY-MM"),
        (["readout", "--experiment", "exp_nope"], "unknown experiment 'exp_nope'"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(
    clean_build: Build, args: list[str], reason: str
) -> None:
    done = prometheus(clean_build, *args, *on_build(clean_build))
    assert done.returncode == 2, done.stderr
    assert f"prometheus {args[0]}: error: " in done.stderr
    assert reason in done.stderr
    assert done.stdout == ""
