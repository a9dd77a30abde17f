"""Each injected defect is caught by the intended test, with the intended severity.

For every defect of the generator's catalogue: generate the clean dataset's
arguments plus ``--defect NAME``, find the raw files the defect changed, and
on a copy of the shared clean build's warehouse rebuild only those sources and
everything downstream of them (``dbt build --select source:<system>.<table>+
--full-refresh``: the defect's data replaces the clean data rather than
arriving after it), then read ``run_results.json``:

- the intended test fired, as a failure (blocking) or a warning;
- nothing outside the defect's expected set failed, warned or errored;
- for blocking defects, the published investor marts still hold the clean
  build's numbers (the publish step was skipped, the last good table stayed;
  published marts are tables, which a full refresh does not drop);
  for warnings, every investor mart downstream of the changed files was
  published.

Every defect reuses one workspace (the same raw folder, warehouse path and
target folder), so dbt parses the project once and partially after that.
"""

from __future__ import annotations

import filecmp
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from prometheus.generator.defects import DEFECTS

from dbt_harness import CLEAN_ARGS, CLEAN_AS_OF, Build, dbt, dbt_env, generate

pytestmark = pytest.mark.slow

INVESTOR_MARTS = (
    "profit.fct_profit_monthly",
    "profit.fct_profit_quarterly",
    "growth.fct_growth_monthly",
    "engagement.fct_engagement_monthly",
)

LEDGER = "assert_profit_monthly_reconciles_with_ledger"
FILINGS = "assert_profit_quarterly_reconciles_with_filings"
DAU_VS_REPORTED = "assert_daily_active_users_match_reported_counts"


@dataclass(frozen=True)
class Expect:
    """What a defect must trip.

    ``caught_by``: test name -> status it must end with ("fail" = blocking,
    "warn" = a warning); ``blocks``: whether publication must be held back;
    ``also``: other tests the defect may legitimately trip as well.
    """

    caught_by: dict[str, str]
    blocks: bool
    also: frozenset[str] = field(default_factory=frozenset)


def blocking(test: str, *also: str, **more: str) -> Expect:
    return Expect({test: "fail", **more}, True, frozenset(also))


def warning(test: str, *also: str) -> Expect:
    return Expect({test: "warn"}, False, frozenset(also))


RECENCY_EVENTS = "stg_events__events_is_fresh"
EVERY_DAY_EVENTS = "stg_events__events_has_every_day"

EXPECTED: dict[str, Expect] = {
    # null keys
    "null_order_id": blocking(
        "not_null_stg_app__orders_order_id",
        "relationships_stg_app__order_items_order_id__order_id__ref_stg_app__orders_",
        "relationships_stg_app__payments_order_id__order_id__ref_stg_app__orders_",
        "relationships_stg_app__refunds_order_id__order_id__ref_stg_app__orders_",
    ),
    "null_event_id": blocking("not_null_stg_events__events_event_id"),
    # missing values in metric inputs and dimensions
    "null_unit_price": blocking("int_order_lines_converted_net_revenue_usd_missing_rate_per_day"),
    "null_country": warning("stg_app__users_country_missing_rate"),
    "null_currency": blocking("not_null_stg_app__orders_currency"),
    # duplicates and volume
    "duplicate_events_spike": warning("assert_event_redelivery_rate_is_low"),
    "batch_loaded_twice": blocking(
        "unique_stg_app__orders_order_id", "unique_stg_app__order_items_order_item_id"
    ),
    "empty_refunds": blocking("stg_app__refunds_is_not_empty"),
    # timeliness and completeness
    "late_last_day": warning(DAU_VS_REPORTED),
    "stale_source": blocking(RECENCY_EVENTS, EVERY_DAY_EVENTS),
    "missing_day": blocking(EVERY_DAY_EVENTS),
    # schema and enums
    "renamed_column": blocking("source_app_orders_matches_the_raw_contract"),
    "new_platform": warning("stg_events__events_platform_is_known"),
    # values
    "absurd_price": blocking(LEDGER, stg_app__order_items_unit_price_is_plausible="warn"),
    "refund_wrong_sign": blocking("stg_app__refunds_amount_is_positive"),
    "future_events": warning("stg_events__events_occurred_at_not_in_the_future"),
    "sentinel_signup": warning("stg_app__users_signed_up_at_not_a_sentinel_date"),
    # reference data
    "fx_gap": blocking("stg_finance__fx_rates_has_every_day_per_currency"),
    "missing_product_cost": blocking(
        "int_order_lines_converted_every_product_sold_has_a_cost",
        "int_order_lines_converted_cogs_usd_missing_rate_per_day",
    ),
    "referential_break": warning("stg_app__orders_user_id_exists_in_users"),
    "test_flag_missing": blocking("not_null_stg_app__users_is_test_account"),
    # the runbook's reconciliations
    "filings_off": blocking(FILINGS),
    "active_users_off": blocking(DAU_VS_REPORTED),
}


@dataclass(frozen=True)
class Workspace:
    """One raw folder, warehouse and target folder reused by every defect."""

    raw_dir: Path
    duckdb_path: Path
    target_dir: Path


@pytest.fixture(scope="module")
def clean(clean_build: Build) -> Build:
    assert clean_build.returncode == 0, clean_build.output[-4000:]
    return clean_build


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("defects")
    return Workspace(root / "raw", root / "prometheus.duckdb", root / "target")


def changed_sources(clean_raw: Path, defect_raw: Path) -> list[str]:
    """`<system>.<table>` of every raw file the defect added, removed or changed."""
    clean = {p.relative_to(clean_raw) for p in clean_raw.rglob("*.parquet")}
    defect = {p.relative_to(defect_raw) for p in defect_raw.rglob("*.parquet")}
    changed = clean ^ defect
    changed |= {
        p for p in clean & defect if not filecmp.cmp(clean_raw / p, defect_raw / p, shallow=False)
    }
    # <system>/<table>.parquet, or <system>/<table>/<day>.parquet for a folder of day files
    return sorted({f"{p.parts[0]}.{p.parts[1].removesuffix('.parquet')}" for p in changed})


def investor_figures(duckdb_path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return {m: sorted(con.sql(f"select * from {m}").fetchall()) for m in INVESTOR_MARTS}


def mart_node(relation: str) -> str:
    return "model.prometheus." + relation.split(".")[1]


def outcomes(target_dir: Path) -> dict[str, str]:
    """Test name (or node id for other resources) -> status, from run_results.json."""
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    named = {}
    for result in results:
        unique_id = result["unique_id"]
        name = unique_id.split(".")[2] if unique_id.startswith("test.") else unique_id
        named[name] = result["status"]
    return named


def test_every_catalogue_defect_has_an_expectation():
    assert len(DEFECTS) >= 20
    assert set(EXPECTED) == set(DEFECTS)


def test_changed_sources_names_each_file_that_differs(tmp_path: Path) -> None:
    clean, defect = tmp_path / "clean", tmp_path / "defect"
    for root in (clean, defect):
        (root / "app").mkdir(parents=True)
        (root / "app" / "users.parquet").write_bytes(b"same")
        (root / "app" / "orders.parquet").write_bytes(b"clean")
    (defect / "app" / "orders.parquet").write_bytes(b"defect")
    (defect / "events" / "events").mkdir(parents=True)
    (defect / "events" / "events" / "day-1.parquet").write_bytes(b"new day")
    assert changed_sources(clean, defect) == ["app.orders", "events.events"]


@pytest.mark.parametrize("defect", sorted(EXPECTED))
def test_defect_is_caught(defect: str, clean: Build, workspace: Workspace) -> None:
    expected = EXPECTED[defect]
    raw_dir, duckdb_path, target_dir = (
        workspace.raw_dir,
        workspace.duckdb_path,
        workspace.target_dir,
    )
    shutil.rmtree(raw_dir, ignore_errors=True)
    generate(raw_dir, [*CLEAN_ARGS, "--defect", defect])
    sources = changed_sources(clean.raw_dir, raw_dir)
    assert sources, f"{defect}: the defect changed no raw file"
    shutil.copy(clean.duckdb_path, duckdb_path)
    before = investor_figures(duckdb_path)

    (target_dir / "run_results.json").unlink(missing_ok=True)  # never read the last defect's
    selection = [f"source:{source}+" for source in sources]
    as_of = f'{{as_of: "{CLEAN_AS_OF}"}}'
    result = dbt(
        ["build", "--select", *selection, "--full-refresh", "--vars", as_of],
        dbt_env(raw_dir, duckdb_path),
        target_dir,
    )
    assert (target_dir / "run_results.json").exists(), (result.stdout + result.stderr)[-4000:]
    status = outcomes(target_dir)

    for test, intended in expected.caught_by.items():
        assert status.get(test) == intended, (
            f"{defect}: {test} is {status.get(test)}, expected {intended} (rebuilt from {sources})"
        )
    unexpected = {
        name: s
        for name, s in status.items()
        if s in ("fail", "warn", "error", "runtime error")
        and name not in expected.caught_by
        and name not in expected.also
    }
    assert not unexpected, f"{defect}: unexpected problems {unexpected}"

    after = investor_figures(duckdb_path)
    rebuilt = [m for m in INVESTOR_MARTS if mart_node(m) in status]
    if expected.blocks:
        assert result.returncode != 0
        held_back = [m for m in rebuilt if status[mart_node(m)] == "skipped"]
        assert held_back, f"{defect}: no investor mart was held back"
        for mart in held_back:
            assert after[mart] == before[mart], f"{defect}: {mart} lost its last good numbers"
    else:
        assert result.returncode == 0, result.stdout[-3000:]
        for mart in rebuilt:
            assert status[mart_node(mart)] == "success", f"{defect}: {mart} not published"
