"""The floor's pure parts: manifest nodes, dependency order, the SQL per node."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from prometheus.bench.floor import (
    MANIFEST_SCHEMA,
    Node,
    load_nodes,
    schema_of,
    statements,
    topological_order,
)


def node(uid: str, *deps: str, **kw) -> Node:
    kw.setdefault("resource_type", uid.split(".")[0])
    kw.setdefault("relation_name", None)
    kw.setdefault("materialized", "table")
    kw.setdefault("compiled_code", "select 1 as x")
    return Node(unique_id=uid, depends_on=deps, **kw)


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        ([node("model.b", "model.a"), node("model.a")], ["model.a", "model.b"]),
        # ties by unique_id; outside dependencies (sources) ignored
        (
            [node("model.c", "source.x"), node("model.b"), node("model.a", "model.c")],
            ["model.b", "model.c", "model.a"],
        ),
        # a test after both of its parents
        (
            [node("test.t", "model.a", "model.b"), node("model.b", "model.a"), node("model.a")],
            ["model.a", "model.b", "test.t"],
        ),
        ([], []),
    ],
)
def test_topological_order(nodes: list[Node], expected: list[str]) -> None:
    assert [n.unique_id for n in topological_order(nodes)] == expected


def test_a_cycle_is_named() -> None:
    with pytest.raises(ValueError, match="model.a, model.b"):
        topological_order([node("model.a", "model.b"), node("model.b", "model.a")])


@pytest.mark.parametrize(
    ("relation", "expected"),
    [('"db"."staging"."stg"', '"db"."staging"'), ("stg", None), (None, None)],
)
def test_schema_of(relation: str | None, expected: str | None) -> None:
    assert schema_of(relation) == expected


def manifest(nodes: dict) -> dict:
    return {"metadata": {"dbt_schema_version": MANIFEST_SCHEMA}, "nodes": nodes}


def raw(uid: str, resource_type: str, **config) -> dict:
    return {
        "unique_id": uid,
        "resource_type": resource_type,
        "depends_on": {"nodes": []},
        "relation_name": f'"db"."s"."{uid.split(".")[-1]}"',
        "config": {"materialized": resource_type, **config},
        "compiled_code": "select 1 as x",
        "original_file_path": f"seeds/{uid.split('.')[-1]}.csv",
    }


def test_load_nodes_keeps_what_runs_and_checks_the_schema() -> None:
    nodes = {
        "model.p.a": raw("model.p.a", "model", materialized="table"),
        "model.p.e": raw("model.p.e", "model", materialized="ephemeral"),
        "seed.p.s": raw("seed.p.s", "seed", column_types={"id": "varchar"}),
        "unit_test.p.u": raw("unit_test.p.u", "unit_test"),
        "analysis.p.q": raw("analysis.p.q", "analysis"),
    }
    loaded = {n.unique_id: n for n in load_nodes(manifest(nodes), Path("/project"))}
    assert sorted(loaded) == ["model.p.a", "seed.p.s"]
    assert loaded["seed.p.s"].seed_path == "/project/seeds/s.csv"
    assert loaded["seed.p.s"].column_types == (("id", "varchar"),)
    with pytest.raises(ValueError, match="manifest schema"):
        load_nodes({"metadata": {"dbt_schema_version": "v1"}, "nodes": {}}, Path("."))


def run_all(con: duckdb.DuckDBPyConnection, n: Node) -> list:
    out = []
    for sql in statements(n):
        out = con.execute(sql).fetchall()
    return out


def test_statements_run_on_duckdb(tmp_path: Path) -> None:
    """Each kind of node, on a real DuckDB: what dbt would leave behind."""
    seed = tmp_path / "codes.csv"
    seed.write_text("code,n\n007,1\n010,2\n")
    con = duckdb.connect()
    con.execute("create schema s")
    nodes = [
        node(
            "seed.codes",
            resource_type="seed",
            relation_name="s.codes",
            seed_path=str(seed),
            column_types=(("code", "varchar"),),
        ),
        node(
            "model.v",
            relation_name="s.v",
            materialized="view",
            compiled_code="select code, n from s.codes;",
        ),
        node(
            "model.i",
            relation_name="s.i",
            materialized="incremental",
            compiled_code="select * from s.v",
        ),
        node(
            "snapshot.snap",
            relation_name="s.snap",
            unique_key=("code",),
            compiled_code="select * from s.i",
        ),
        node(
            "test.stored",
            relation_name="s.failures",
            store_failures=True,
            compiled_code="select * from s.i where n > 1",
        ),
        node("test.calc", fail_calc="coalesce(max(n), 0)", compiled_code="select n from s.i"),
    ]
    results = {n.unique_id: run_all(con, n) for n in nodes}
    assert con.sql("select code from s.codes order by 1").fetchall() == [("007",), ("010",)]
    kinds = dict(con.sql("select table_name, table_type from information_schema.tables").fetchall())
    assert kinds == {
        "codes": "BASE TABLE",
        "v": "VIEW",
        "i": "BASE TABLE",
        "snap": "BASE TABLE",
        "failures": "BASE TABLE",
    }
    snap_columns = [c[0] for c in con.sql("describe s.snap").fetchall()]
    assert snap_columns[-4:] == ["dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to"]
    assert results["test.stored"] == [(1,)]
    assert results["test.calc"] == [(2,)]
