"""A few stored failing rows of tests run with ``store_failures``, read-only.

The relation comes from the run results (or the manifest); the warehouse is the
DuckDB file of ``prometheus.settings`` (``PROMETHEUS_DUCKDB_PATH``).
Anything missing (no file, locked file, dropped table) just means no sample rows.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus import settings
from prometheus.notifier.problems import Problem


def duckdb_path() -> Path:
    return settings.load().duckdb_path


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def _relation_for_duckdb(relation: str, database_alias: str) -> str:
    """`"wh"."schema"."table"` -> `"<alias>"."schema"."table"` (the file is attached
    under our own alias, whatever name the build gave it)."""
    parts = relation.split(".")
    if len(parts) == 3:
        return ".".join([f'"{database_alias}"', *parts[1:]])
    return relation


def _open(path: Path | None) -> tuple[Any, list[str]]:
    """A read-only DuckDB connection with the warehouse attached, or None and why not."""
    path = path or duckdb_path()
    if not path.is_file():
        return None, [f"{path}: no warehouse file, no stored failing rows"]
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is a dependency of the project
        return None, ["duckdb is not installed, no stored failing rows"]
    try:
        con = duckdb.connect()
        con.execute(
            f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as notifier_wh (read_only)"
        )
    except duckdb.Error as exc:
        return None, [
            f"{path}: cannot open read-only ({type(exc).__name__}), no stored failing rows"
        ]
    return con, []


def _stored(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.resource_type == "test" and p.relation_name]


def read_samples(
    problems: Iterable[Problem], path: Path | None = None, limit: int = 5
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """unique_id -> up to ``limit`` rows, and notes about what could not be read."""
    wanted = _stored(problems)
    if not wanted:
        return {}, []
    con, notes = _open(path)
    if con is None:
        return {}, notes
    import duckdb

    samples: dict[str, list[dict[str, Any]]] = {}
    try:
        for problem in wanted:
            assert problem.relation_name is not None
            relation = _relation_for_duckdb(problem.relation_name, "notifier_wh")
            try:
                cursor = con.execute(f"select * from {relation} limit {int(limit)}")
                columns = [d[0] for d in cursor.description or ()]
                samples[problem.unique_id] = [
                    {c: _jsonable(v) for c, v in zip(columns, row, strict=True)}
                    for row in cursor.fetchall()
                ]
            except duckdb.Error as exc:
                notes.append(f"{problem.relation_name}: not readable ({type(exc).__name__})")
    finally:
        con.close()
    return samples, notes


def read_row_counts(problems: Iterable[Problem], path: Path | None = None) -> dict[str, int]:
    """unique_id -> how many failing rows the test stored.

    The true failing-row count: for a tiered test dbt's ``failures`` is its
    fail_calc (a severity level), not a number of rows.
    """
    wanted = _stored(problems)
    con, _ = _open(path) if wanted else (None, [])
    if con is None:
        return {}
    import duckdb

    counts: dict[str, int] = {}
    try:
        for problem in wanted:
            assert problem.relation_name is not None
            relation = _relation_for_duckdb(problem.relation_name, "notifier_wh")
            try:
                row = con.execute(f"select count(*) from {relation}").fetchone()
            except duckdb.Error:
                continue
            counts[problem.unique_id] = int(row[0]) if row else 0
    finally:
        con.close()
    return counts
