"""The floor: the project's compiled SQL run straight on DuckDB, without dbt.

Reads ``manifest.json`` after a ``dbt compile`` on an empty warehouse (so
incremental models compile to their full-refresh query), orders seeds,
models, snapshots and data tests by their dependencies, and runs what dbt
would run for each, on one DuckDB connection with the profile's settings:

- seed: ``create table`` from the CSV with the seed's column types;
- model: ``create view`` or ``create table`` (incremental: table) as its SQL;
- snapshot: ``create table`` as its SQL plus dbt's four columns (a first
  snapshot run);
- data test: the failing rows stored in their table when ``store_failures``
  is on, then the test's ``fail_calc`` over them, as ``dbt test`` does.

Unit tests, hooks, docs, contracts' DDL and dbt's bookkeeping are left out:
they are what the floor measures dbt against.

Run as ``python -m prometheus.bench.floor --manifest M --duckdb-path P``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus import settings

MANIFEST_SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v12.json"
RUN_TYPES = ("seed", "model", "snapshot", "test")


@dataclass(frozen=True)
class Node:
    """The keys of a manifest node the floor needs."""

    unique_id: str
    resource_type: str
    depends_on: tuple[str, ...]
    relation_name: str | None
    materialized: str
    compiled_code: str
    seed_path: str | None = None
    column_types: tuple[tuple[str, str], ...] = ()
    store_failures: bool = False
    fail_calc: str = "count(*)"
    schema_sql: str | None = None
    unique_key: tuple[str, ...] = ()

    @classmethod
    def from_manifest(cls, raw: Mapping[str, Any], root: Path) -> Node:
        config = raw.get("config") or {}
        seed_path = None
        if raw["resource_type"] == "seed":
            seed_path = str(root / raw["original_file_path"])
        relation = raw.get("relation_name")
        unique_key = config.get("unique_key") or ()
        if isinstance(unique_key, str):
            unique_key = (unique_key,)
        return cls(
            unique_id=raw["unique_id"],
            resource_type=raw["resource_type"],
            depends_on=tuple((raw.get("depends_on") or {}).get("nodes") or ()),
            relation_name=relation,
            materialized=config.get("materialized") or "view",
            compiled_code=raw.get("compiled_code") or "",
            seed_path=seed_path,
            column_types=tuple((config.get("column_types") or {}).items()),
            store_failures=bool(config.get("store_failures")),
            fail_calc=config.get("fail_calc") or "count(*)",
            schema_sql=schema_of(relation),
            unique_key=tuple(unique_key),
        )


def schema_of(relation_name: str | None) -> str | None:
    """``"db"."schema"."name"`` -> ``"db"."schema"`` (None when not three parts)."""
    if not relation_name:
        return None
    parts = relation_name.split(".")
    return ".".join(parts[:2]) if len(parts) == 3 else None


def load_nodes(manifest: Mapping[str, Any], root: Path) -> list[Node]:
    """The manifest's seeds, models, snapshots and data tests (enabled, not ephemeral)."""
    version = (manifest.get("metadata") or {}).get("dbt_schema_version")
    if version != MANIFEST_SCHEMA:
        raise ValueError(f"manifest schema {version!r}, expected {MANIFEST_SCHEMA}")
    nodes = []
    for raw in (manifest.get("nodes") or {}).values():
        if raw.get("resource_type") not in RUN_TYPES:
            continue
        node = Node.from_manifest(raw, root)
        if node.materialized == "ephemeral":
            continue
        nodes.append(node)
    return nodes


def topological_order(nodes: Iterable[Node]) -> list[Node]:
    """Dependencies first; ties broken by unique_id, so the order is stable.

    Dependencies outside ``nodes`` (sources, ephemeral models) are ignored.
    A cycle raises ValueError naming the nodes left.
    """
    by_id = {node.unique_id: node for node in nodes}
    waiting = {uid: {d for d in node.depends_on if d in by_id} for uid, node in by_id.items()}
    dependents: dict[str, list[str]] = {uid: [] for uid in by_id}
    for uid, deps in waiting.items():
        for dep in deps:
            dependents[dep].append(uid)
    ready = [uid for uid, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[Node] = []
    while ready:
        uid = heapq.heappop(ready)
        order.append(by_id[uid])
        for child in dependents[uid]:
            waiting[child].discard(uid)
            if not waiting[child]:
                heapq.heappush(ready, child)
    if len(order) != len(by_id):
        left = sorted(set(by_id) - {node.unique_id for node in order})
        raise ValueError(f"dependency cycle among: {', '.join(left)}")
    return order


def statements(node: Node) -> list[str]:
    """The SQL dbt would run for the node, without its bookkeeping."""
    code = node.compiled_code.strip().rstrip(";")
    relation = node.relation_name
    if node.resource_type == "seed":
        types = ", ".join(f"'{name}': '{kind}'" for name, kind in node.column_types)
        options = f", types = {{{types}}}" if types else ""
        return [
            f"create or replace table {relation} as "
            f"select * from read_csv('{node.seed_path}', header = true{options})"
        ]
    if node.resource_type == "test":
        if node.store_failures and relation:
            return [
                f"create or replace table {relation} as {code}",
                f"select {node.fail_calc} as failures from {relation}",
            ]
        return [f"select {node.fail_calc} as failures from (\n{code}\n) as dbt_internal_test"]
    if node.resource_type == "snapshot":
        # a first snapshot run: every row current, with dbt's four columns
        key = " || '|' || ".join(f"coalesce(cast({k} as varchar), '')" for k in node.unique_key)
        key = key or "''"
        return [
            f"create or replace table {relation} as\n"
            f"select *, md5({key} || '|' || cast(now() as varchar)) as dbt_scd_id,\n"
            "    cast(now() as timestamp) as dbt_updated_at,\n"
            "    cast(now() as timestamp) as dbt_valid_from,\n"
            "    cast(null as timestamp) as dbt_valid_to\n"
            f"from (\n{code}\n) as snapshot_query"
        ]
    kind = "view" if node.materialized == "view" else "table"
    return [f"create or replace {kind} {relation} as (\n{code}\n)"]


def schemas(nodes: Iterable[Node]) -> list[str]:
    return sorted({node.schema_sql for node in nodes if node.schema_sql})


DuckDBConfig = dict[str, str | bool | int | float | list[str]]


def run_floor(
    manifest_path: Path, duckdb_path: Path, config: Mapping[str, str | bool]
) -> list[dict[str, Any]]:
    import duckdb  # noqa: PLC0415 - only the run needs it

    manifest = json.loads(manifest_path.read_text())
    root = Path.cwd()  # seeds' paths are relative to the project, where dbt ran
    order = topological_order(load_nodes(manifest, root))
    timings: list[dict[str, Any]] = []
    connect_config: DuckDBConfig = dict(config)
    with duckdb.connect(str(duckdb_path), config=connect_config) as con:
        for schema in schemas(order):
            con.execute(f"create schema if not exists {schema}")
        for node in order:
            start = time.perf_counter()
            for sql in statements(node):
                con.execute(sql).fetchall()
            timings.append(
                {
                    "unique_id": node.unique_id,
                    "resource_type": node.resource_type,
                    "seconds": round(time.perf_counter() - start, 4),
                }
            )
    return timings


def profile_settings(env: Mapping[str, str] | None = None) -> dict[str, str | bool]:
    """The DuckDB settings profiles.yml gives the dbt connection (prometheus.settings)."""
    return settings.load(env).duckdb_config()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prometheus.bench.floor")
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--duckdb-path", type=Path, required=True)
    parser.add_argument("--timings", type=Path, help="write per-node seconds (JSON) here")
    args = parser.parse_args(argv)
    timings = run_floor(args.manifest, args.duckdb_path, profile_settings())
    if args.timings:
        args.timings.write_text(json.dumps(timings, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
