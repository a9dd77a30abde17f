"""Which tests sit on a mart's lineage, and what the build said of them (fast: literal
manifest and run results, a DuckDB file in a temporary folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from prometheus.artifacts import parse_manifest
from prometheus.errors import CliError
from prometheus.reports import warehouse

SCHEMA = "https://schemas.getdbt.com/dbt/{}/v{}.json"


def _node(uid: str, kind: str, depends: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "unique_id": uid, "resource_type": kind, "name": uid.split(".")[-1],
        "depends_on": {"nodes": list(depends)},
    }  # fmt: skip


NODES = {
    "model.p.stg_orders": _node("model.p.stg_orders", "model"),
    "model.p.fct_profit_monthly": _node(
        "model.p.fct_profit_monthly", "model", ("model.p.stg_orders",)
    ),
    "model.p.fct_growth_monthly": _node("model.p.fct_growth_monthly", "model"),
    "test.p.unique_stg_orders_id": _node(
        "test.p.unique_stg_orders_id", "test", ("model.p.stg_orders",)
    ),
    "test.p.not_null_growth": _node(
        "test.p.not_null_growth", "test", ("model.p.fct_growth_monthly",)
    ),
}
MANIFEST = {
    "metadata": {"dbt_schema_version": SCHEMA.format("manifest", 12), "invocation_id": "b1"},
    "nodes": NODES, "sources": {}, "exposures": {}, "groups": {},
    "parent_map": {uid: n["depends_on"]["nodes"] for uid, n in NODES.items()},
    "child_map": {},
}  # fmt: skip


def _target(tmp_path: Path, statuses: dict[str, str]) -> Path:
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps(MANIFEST))
    run = {
        "metadata": {"dbt_schema_version": SCHEMA.format("run-results", 6), "invocation_id": "b1"},
        "args": {"which": "build"},
        "results": [{"unique_id": uid, "status": s} for uid, s in statuses.items()],
    }
    (target / "run_results.json").write_text(json.dumps(run))
    return target


def test_lineage_is_the_mart_and_everything_upstream() -> None:
    manifest = parse_manifest(MANIFEST, Path("manifest.json"))
    assert warehouse.lineage_tests(manifest, "fct_profit_monthly") == {
        "test.p.unique_stg_orders_id": "unique_stg_orders_id"
    }
    assert set(warehouse.lineage_tests(manifest, "fct_growth_monthly")) == {
        "test.p.not_null_growth"
    }


def test_the_build_file_status_comes_from_run_results(tmp_path: Path) -> None:
    target = _target(
        tmp_path,
        {"test.p.unique_stg_orders_id": "fail", "model.p.fct_profit_monthly": "skipped",
         "test.p.not_null_growth": "pass"},
    )  # fmt: skip
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    status = warehouse.build_status(con, target, ["fct_profit_monthly", "fct_growth_monthly"])
    assert status.held_back == {"fct_profit_monthly"}
    assert status.lineage_problems == {
        "fct_profit_monthly": (("unique_stg_orders_id", "fail"),),
        "fct_growth_monthly": (),
    }
    assert status.source == "run_results.json of build b1"


def test_a_publication_of_another_build_without_its_history_is_refused(tmp_path: Path) -> None:
    target = _target(tmp_path, {})
    con = duckdb.connect(str(tmp_path / "published.duckdb"))
    con.execute(
        "create table main.publication as select 'b0' as build_invocation_id, "
        "['model.p.fct_growth_monthly'] as held_back_models"
    )
    with pytest.raises(
        CliError, match="run_results.json is from build b1, the figures from build b0"
    ):
        warehouse.build_status(con, target, ["fct_growth_monthly"])


def test_a_publication_with_its_run_history(tmp_path: Path) -> None:
    target = _target(tmp_path, {})
    con = duckdb.connect(str(tmp_path / "published.duckdb"))
    con.execute(
        "create table main.publication as select 'b0' as build_invocation_id, "
        "['model.p.fct_growth_monthly'] as held_back_models"
    )
    con.execute("create schema observability")
    con.execute(
        "create table observability.test_results as select 'b0' as invocation_id, "
        "'test.p.not_null_growth' as test_unique_id, 'warn' as status"
    )
    status = warehouse.build_status(con, target, ["fct_growth_monthly"])
    assert status.held_back == {"fct_growth_monthly"}
    assert status.lineage_problems["fct_growth_monthly"] == (("not_null_growth", "warn"),)
    assert status.source == "publication of build b0, tests from the run history"


def test_no_manifest_is_a_clear_error(tmp_path: Path) -> None:
    con = duckdb.connect(":memory:")
    with pytest.raises(CliError, match="the build's lineage is needed"):
        warehouse.build_status(con, tmp_path, ["fct_growth_monthly"])
