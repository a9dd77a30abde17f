"""The publication gate check on small literal manifests: a gap is found, its fix closes it.

Shape: raw -> stg_orders -> int_profit_audited -> fct_profit, and a ledger
model beside them. The reconciliation test reads the audited model and the
ledger, so it holds fct_profit back only if fct_profit depends on the ledger
too (dbt's rule: a test gates the nodes that descend from all it reads).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from prometheus.artifacts import parse_manifest
from prometheus.errors import CliError
from prometheus.governance import gates, gates_cli

P = "model.shop."


def node(unique_id: str, depends_on: list[str] | None = None, **keys: Any) -> dict[str, Any]:
    return {
        "unique_id": unique_id,
        "resource_type": unique_id.split(".")[0],
        "name": unique_id.split(".")[2],
        "depends_on": {"nodes": depends_on or []},
        **keys,
    }


def manifest(*, mart_reads_ledger: bool, recon_meta: dict[str, Any] | None = None) -> Any:
    mart_parents = [P + "int_profit_audited"] + ([P + "stg_ledger"] if mart_reads_ledger else [])
    nodes = [
        node(P + "stg_orders", ["source.shop.app.orders"]),
        node(P + "stg_ledger", ["source.shop.finance.ledger"]),
        node(P + "int_profit_audited", [P + "stg_orders"]),
        node(P + "fct_profit", mart_parents),
        node("test.shop.not_null_stg_orders_id", [P + "stg_orders"], config={"severity": "ERROR"}),
        node(
            "test.shop.assert_profit_reconciles_with_ledger",
            [P + "int_profit_audited", P + "stg_ledger"],
            config={"severity": "ERROR", "meta": recon_meta or {}},
        ),
        node(
            "test.shop.ledger_warns",
            [P + "int_profit_audited", P + "stg_ledger"],
            config={"severity": "warn"},
        ),
    ]
    sources = [node("source.shop.app.orders"), node("source.shop.finance.ledger")]
    data = {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "invocation_id": "parse-1",
        },
        "nodes": {n["unique_id"]: n for n in nodes},
        "sources": {s["unique_id"]: s for s in sources},
        "exposures": {},
        "groups": {},
        "parent_map": {},
        "child_map": {},
    }
    return parse_manifest(data, Path("manifest.json"))


def test_a_reconciliation_the_mart_does_not_depend_on_is_a_gap() -> None:
    found = gates.gate_gaps(manifest(mart_reads_ledger=False))
    assert [(g.mart, g.test, g.missing) for g in found] == [
        ("fct_profit", "assert_profit_reconciles_with_ledger", ("stg_ledger",))
    ]
    assert "depends_on" in found[0].describe() and "stg_ledger" in found[0].describe()


def test_the_depends_on_line_closes_the_gap() -> None:
    assert gates.gate_gaps(manifest(mart_reads_ledger=True)) == []


def test_a_partial_gate_needs_a_reason() -> None:
    without_reason = manifest(mart_reads_ledger=False, recon_meta={"gate": "partial"})
    assert [g.test for g in gates.gate_gaps(without_reason)] == [
        "assert_profit_reconciles_with_ledger"
    ]
    assert gates.unexplained_partials(without_reason)
    with_reason = manifest(
        mart_reads_ledger=False, recon_meta={"gate": "partial", "gate_reason": "moves nothing"}
    )
    assert gates.gate_gaps(with_reason) == []
    assert gates.unexplained_partials(with_reason) == []


def test_only_marts_built_from_audited_models_are_protected() -> None:
    assert gates.protected_marts(manifest(mart_reads_ledger=True)) == {
        P + "fct_profit": (P + "int_profit_audited",)
    }


def test_cli_bad_manifest_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(CliError, match="nope.json"):
        gates_cli.run(argparse.Namespace(manifest=missing))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CliError, match="bad.json"):
        gates_cli.run(argparse.Namespace(manifest=bad))
