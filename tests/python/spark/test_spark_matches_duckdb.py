"""The same generated dataset built on DuckDB and on Spark gives the same marts.

One tiny dataset (three months at scale 0.005) is built with `dbt build` on the
DuckDB default and on local Spark (`PROMETHEUS_TARGET=spark`, Parquet tables),
and every table of the public mart schemas (profit, growth, engagement) and
every snapshot is compared: the same columns and types, the same row count,
decimals exactly, doubles to a relative 1e-9, everything else equal. Spark's
managed tables are read as the Parquet files they are (pyarrow), so the test
process starts no second JVM. Needs the spark dependency group and Java
(scripts/spark.sh installs both); without them it fails, saying so.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from dbt_harness import REPO_ROOT, dbt_env, generate

pytestmark = pytest.mark.slow

TINY_ARGS = ["--scale", "0.005", "--seed", "11", "--start", "2024-07-01", "--end", "2024-09-30"]
TINY_AS_OF = "2024-10-01T06:00:00"
MART_SCHEMAS = ("profit", "growth", "engagement")
# what each run of a snapshot stamps (run time, scd id of it): not data
SNAPSHOT_META = {"dbt_valid_from", "dbt_valid_to", "dbt_updated_at", "dbt_scd_id"}
REL_TOLERANCE = 1e-9
SPARK_TIMEOUT_S = 3600

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    columns: list[str]
    kinds: list[str]  # decimal, double, other
    rows: list[Row]


@dataclass(frozen=True)
class Builds:
    duckdb_path: Path
    spark_tables: Path
    spark_seconds: float


def run(command: list[str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def dbt_command(*args: str, target_dir: Path) -> list[str]:
    return [str(Path(sys.executable).with_name("dbt")), *args, "--target-path", str(target_dir)]


def tail(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr)[-4000:]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    assert importlib.util.find_spec("pyspark") is not None, (
        "pyspark is not installed: uv sync --group spark (or run scripts/spark.sh)"
    )
    assert shutil.which("java"), "no java on PATH: apt-get install openjdk-17-jre-headless"
    root = tmp_path_factory.mktemp("spark_vs_duckdb")
    raw_dir = root / "raw"
    generate(raw_dir, TINY_ARGS)
    vars_arg = f'{{as_of: "{TINY_AS_OF}"}}'

    duck_env = dbt_env(raw_dir, root / "duckdb" / "prometheus.duckdb")
    duck_env["PROMETHEUS_TARGET"] = "dev"
    (root / "duckdb").mkdir()
    duck = run(dbt_command("build", "--vars", vars_arg, target_dir=root / "t_duck"), duck_env, 900)
    assert duck.returncode == 0, tail(duck)

    spark_env = dbt_env(raw_dir, root / "unused.duckdb")
    spark_env.update(
        {
            "PROMETHEUS_TARGET": "spark",
            "PROMETHEUS_SPARK_DIR": str(root / "spark"),
            "PROMETHEUS_SPARK_DRIVER_MEMORY": os.environ.get(
                "PROMETHEUS_SPARK_DRIVER_MEMORY", "2g"
            ),
        }
    )
    started = time.monotonic()
    register = run(
        dbt_command("run-operation", "register_raw_sources", target_dir=root / "t_spark"),
        spark_env,
        SPARK_TIMEOUT_S,
    )
    assert register.returncode == 0, tail(register)
    spark = run(
        dbt_command("build", "--vars", vars_arg, target_dir=root / "t_spark"),
        spark_env,
        SPARK_TIMEOUT_S,
    )
    assert spark.returncode == 0, tail(spark)
    seconds = time.monotonic() - started
    print(f"spark: register + build in {seconds:.0f} s")
    yield Builds(root / "duckdb" / "prometheus.duckdb", root / "spark" / "tables", seconds)


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


def duckdb_tables(path: Path) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('profit', 'growth', 'engagement', 'snapshots') "
            "order by 1, 2"
        ).fetchall()
        for schema, name in names:
            described = con.execute(f'describe "{schema}"."{name}"').fetchall()
            columns = [d[0] for d in described]
            kinds = [kind(d[1]) for d in described]
            rows = con.execute(f'select * from "{schema}"."{name}"').fetchall()
            drop = SNAPSHOT_META if schema == "snapshots" else set()
            tables[f"{schema}.{name}"] = finish(columns, kinds, rows, drop)
    return tables


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


def differences(duck: Table, spark: Table, limit: int = 5) -> list[str]:
    if duck.columns != spark.columns:
        return [f"columns: duckdb {duck.columns} spark {spark.columns}"]
    if duck.kinds != spark.kinds:
        return [f"types: duckdb {duck.kinds} spark {spark.kinds}"]
    if len(duck.rows) != len(spark.rows):
        return [f"row count: duckdb {len(duck.rows)} spark {len(spark.rows)}"]
    found = []
    for d_row, s_row in zip(duck.rows, spark.rows, strict=True):
        for column, k, a, b in zip(duck.columns, duck.kinds, d_row, s_row, strict=True):
            if not same_value(a, b, k):
                found.append(f"{column} ({k}): duckdb {a!r} spark {b!r}")
        if len(found) >= limit:
            break
    return found


# --- the comparison's own behaviour, on literal tables (fast) -----------------


def literal(rows: list[Row], kinds: list[str]) -> Table:
    return finish([f"c{i}" for i in range(len(kinds))], kinds, rows, set())


@pytest.mark.parametrize(
    ("duck_rows", "spark_rows", "kinds", "equal"),
    [
        ([(Decimal("1.50"), 1.0)], [(Decimal("1.5"), 1.0 + 1e-12)], ["decimal", "double"], True),
        ([(Decimal("1.50"), 1.0)], [(Decimal("1.51"), 1.0)], ["decimal", "double"], False),
        ([(Decimal("1"), 1.0)], [(Decimal("1"), 1.0 + 1e-7)], ["decimal", "double"], False),
        ([("a", None)], [("a", 0.0)], ["other", "double"], False),
        ([("a",), ("b",)], [("b",), ("a",)], ["other"], True),
        ([("a",), ("a",)], [("a",)], ["other"], False),
    ],
)
def test_the_comparison(
    duck_rows: list[Row], spark_rows: list[Row], kinds: list[str], equal: bool
) -> None:
    assert (differences(literal(duck_rows, kinds), literal(spark_rows, kinds)) == []) is equal


# --- the two builds ------------------------------------------------------------


def test_every_public_mart_and_snapshot_is_equal_on_spark(builds: Builds) -> None:
    duck = duckdb_tables(builds.duckdb_path)
    marts = [name for name in duck if name.split(".")[0] in MART_SCHEMAS]
    assert len(marts) >= 8, f"too few marts found in DuckDB: {marts}"
    assert any(name.startswith("snapshots.") for name in duck)
    problems: dict[str, list[str]] = {}
    for name, table in duck.items():
        schema, identifier = name.split(".")
        directory = builds.spark_tables / f"{schema}.db" / identifier
        if not directory.is_dir():
            problems[name] = [f"no Spark table at {directory}"]
            continue
        found = differences(table, spark_table(directory, schema))
        if found:
            problems[name] = found
    assert not problems, "\n".join(f"{n}: {p}" for n, p in problems.items())
    # the marts hold data (an empty pair of tables would compare equal)
    assert sum(len(duck[name].rows) for name in marts) > 100
