"""Local Spark builds of the project from tests, and Spark tables read back.

Imported by tests as ``spark_harness`` (tests/python is on sys.path). dbt runs
with ``PROMETHEUS_TARGET=spark`` (dbt-spark ``session``, local Spark in dbt's
process, Parquet tables under ``<spark dir>/tables/<schema>.db/<table>``).
Tables are read back as the Parquet files they are (pyarrow), so no test
process starts a second JVM. Needs the spark dependency group and Java
(scripts/spark.sh installs both); without them a fixture fails, saying so.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from dbt_harness import dbt, dbt_env

# three months at scale 0.005: every model, test and snapshot has rows
TINY_ARGS = ["--scale", "0.005", "--seed", "11", "--start", "2024-07-01", "--end", "2024-09-30"]
TINY_AS_OF = "2024-10-01T06:00:00"
SPARK_TIMEOUT_S = 3600
# what each run of a snapshot stamps (run time, scd id of it): not data
SNAPSHOT_META = {"dbt_valid_from", "dbt_valid_to", "dbt_updated_at", "dbt_scd_id"}
REL_TOLERANCE = 1e-9

Row = tuple[Any, ...]


def require_spark() -> None:
    assert importlib.util.find_spec("pyspark") is not None, (
        "pyspark is not installed: uv sync --group spark (or run scripts/spark.sh)"
    )
    assert shutil.which("java"), "no java on PATH: apt-get install openjdk-17-jre-headless"


def spark_env(raw_dir: Path, spark_dir: Path) -> dict[str, str]:
    """dbt's environment for the spark target over these raw files and this Spark dir."""
    env = dbt_env(raw_dir, spark_dir / "unused.duckdb")
    # the session's size as profiles.yml defaults it, unless the caller's environment says
    env.update({"PROMETHEUS_TARGET": "spark", "PROMETHEUS_SPARK_DIR": str(spark_dir)})
    return env


def tail(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr)[-4000:]


def spark_dbt_run(
    env: dict[str, str], target_dir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """dbt on Spark (a JVM start and a metastore per call: a long timeout)."""
    return dbt(list(args), env, target_dir, timeout=SPARK_TIMEOUT_S)


def spark_dbt(env: dict[str, str], target_dir: Path, *args: str) -> str:
    """Run dbt on Spark; its output. A non-zero exit fails the caller with the output's tail."""
    result = spark_dbt_run(env, target_dir, *args)
    assert result.returncode == 0, tail(result)
    return result.stdout + result.stderr


def table_dir(spark_dir: Path, schema: str, identifier: str) -> Path:
    return spark_dir / "tables" / f"{schema}.db" / identifier


@dataclass(frozen=True)
class TinyBuilds:
    """The tiny dataset built on DuckDB and on Spark (tests/python/spark/conftest.py)."""

    raw_dir: Path
    duckdb_path: Path
    duckdb_target: Path
    spark_dir: Path
    spark_target: Path
    spark_seconds: float

    @property
    def spark_tables(self) -> Path:
        return self.spark_dir / "tables"


# --- tables, compared --------------------------------------------------------


@dataclass(frozen=True)
class Table:
    columns: list[str]
    kinds: list[str]  # decimal, double, other
    rows: list[Row]


def kind(type_name: str) -> str:
    name = type_name.lower()
    if name.startswith("decimal"):
        return "decimal"
    if name in ("double", "float", "real", "float64", "float32"):
        return "double"
    return "other"


def sort_key(row: Row, kinds: list[str]) -> tuple[Any, ...]:
    """Exact columns first, doubles last and rounded, nulls first: the same order on both."""
    exact = [(v is not None, v) for v, k in zip(row, kinds, strict=True) if k != "double"]
    doubles = [
        (v is not None, float(f"{v:.6g}") if v is not None else 0.0)
        for v, k in zip(row, kinds, strict=True)
        if k == "double"
    ]
    return (*exact, *doubles)


def finish(columns: list[str], kinds: list[str], rows: list[Row], drop: set[str]) -> Table:
    keep = [i for i, c in enumerate(columns) if c not in drop]
    cols, ks = [columns[i] for i in keep], [kinds[i] for i in keep]
    kept = [tuple(r[i] for i in keep) for r in rows]
    return Table(cols, ks, sorted(kept, key=lambda r: sort_key(r, ks)))


def spark_table(directory: Path, schema: str) -> Table:
    arrow = pq.read_table(directory)
    kinds = [kind(str(f.type).split("(")[0]) for f in arrow.schema]
    rows = [tuple(r.values()) for r in arrow.to_pylist()]
    drop = SNAPSHOT_META if schema == "snapshots" else set()
    return finish(arrow.schema.names, kinds, rows, drop)


def same_value(a: Any, b: Any, kind_name: str) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if kind_name == "decimal":
        return isinstance(a, Decimal) and isinstance(b, Decimal) and a == b
    if kind_name == "double":
        return math.isclose(float(a), float(b), rel_tol=REL_TOLERANCE, abs_tol=1e-12)
    return bool(a == b)


def differences(left: Table, right: Table, limit: int = 5) -> list[str]:
    """What differs between two tables (columns, types, row count, values); [] if equal."""
    if left.columns != right.columns:
        return [f"columns: {left.columns} against {right.columns}"]
    if left.kinds != right.kinds:
        return [f"types: {left.kinds} against {right.kinds}"]
    if len(left.rows) != len(right.rows):
        return [f"row count: {len(left.rows)} against {len(right.rows)}"]
    found = []
    for l_row, r_row in zip(left.rows, right.rows, strict=True):
        for column, k, a, b in zip(left.columns, left.kinds, l_row, r_row, strict=True):
            if not same_value(a, b, k):
                found.append(f"{column} ({k}): {a!r} against {b!r}")
        if len(found) >= limit:
            break
    return found
