"""Each analysis in analyses/ restates a mart: compiled by dbt and run on the session's
clean build, it gives the mart's figures (test accounts excluded, every sign-up counted).

- profit_per_experiment_variant: assigned users equal fct_experiment_growth_daily's on
  the last day, profit equals fct_experiment_order_item_profit summed per variant;
- growth_by_acquisition_channel: summed over the channels, new users and MAU equal
  fct_growth_monthly's for every month;
- investor_pack_month: the figures of the last closed month, as in the three marts.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dbt_harness import CLEAN_AS_OF, Build, dbt, dbt_env

ANALYSES = ("profit_per_experiment_variant", "growth_by_acquisition_channel", "investor_pack_month")


@pytest.fixture(scope="module")
def compiled(clean_build: Build, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The analyses' compiled SQL, against a copy of the clean build."""
    assert clean_build.returncode == 0, clean_build.output[-3000:]
    root = tmp_path_factory.mktemp("analyses")
    duckdb_path = root / "prometheus.duckdb"
    shutil.copy(clean_build.duckdb_path, duckdb_path)
    target = root / "target"
    result = dbt(
        ["compile", "--select", *ANALYSES, "--vars", f'{{as_of: "{CLEAN_AS_OF}"}}'],
        dbt_env(clean_build.raw_dir, duckdb_path),
        target,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    found = {p.stem: p for p in (target / "compiled").rglob("*.sql") if p.stem in ANALYSES}
    assert set(found) == set(ANALYSES), sorted(found)
    return {**found, "_db": duckdb_path}


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, object]]:
    relation = con.sql(sql)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def test_profit_per_variant_restates_the_experiment_marts(compiled: dict[str, Path]) -> None:
    with duckdb.connect(str(compiled["_db"]), read_only=True) as con:
        analysis = rows(con, compiled["profit_per_experiment_variant"].read_text())
        assigned = dict(
            con.sql(
                "select experiment_id || '/' || variant, max_by(assigned_users, activity_date)"
                " from growth.fct_experiment_growth_daily group by 1"
            ).fetchall()
        )
        profit = dict(
            con.sql(
                "select experiment_id || '/' || variant, sum(contribution_profit_usd)"
                " from profit.fct_experiment_order_item_profit group by 1"
            ).fetchall()
        )
    assert len(analysis) >= 2
    for row in analysis:
        key = f"{row['experiment_id']}/{row['variant']}"
        assert row["assigned_users"] == assigned[key], key
        expected = profit.get(key) or Decimal(0)
        assert Decimal(str(row["contribution_profit_usd"] or 0)) == expected, key


def test_growth_by_channel_sums_to_the_growth_mart(compiled: dict[str, Path]) -> None:
    with duckdb.connect(str(compiled["_db"]), read_only=True) as con:
        by_channel = rows(
            con,
            "select month, sum(new_users) as new_users, sum(monthly_active_users) as mau"
            f" from ({compiled['growth_by_acquisition_channel'].read_text()}) as analysis"
            " group by month",
        )
        mart = {
            month: (new, mau)
            for month, new, mau in con.sql(
                "select month, new_users, monthly_active_users from growth.fct_growth_monthly"
            ).fetchall()
        }
    summed = {r["month"]: (r["new_users"], r["mau"]) for r in by_channel if r["month"] in mart}
    assert len(summed) == len(mart) >= 6
    assert summed == mart


def test_investor_pack_shows_the_last_closed_month(compiled: dict[str, Path]) -> None:
    with duckdb.connect(str(compiled["_db"]), read_only=True) as con:
        [pack] = rows(con, compiled["investor_pack_month"].read_text())
        [(month, mau, revenue)] = con.sql(
            "select g.month, g.monthly_active_users, p.net_revenue_usd"
            " from growth.fct_growth_monthly g join profit.fct_profit_monthly p using (month)"
            " where g.is_closed order by g.month desc limit 1"
        ).fetchall()
    assert (pack["month"], pack["monthly_active_users"], pack["net_revenue_usd"]) == (
        month,
        mau,
        revenue,
    )
