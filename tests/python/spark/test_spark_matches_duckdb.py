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

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from spark_harness import (
    SNAPSHOT_META,
    Row,
    Table,
    TinyBuilds,
    differences,
    finish,
    kind,
    spark_table,
)

pytestmark = pytest.mark.slow

MART_SCHEMAS = ("profit", "growth", "engagement")


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


def test_every_public_mart_and_snapshot_is_equal_on_spark(tiny_builds: TinyBuilds) -> None:
    duck = duckdb_tables(tiny_builds.duckdb_path)
    marts = [name for name in duck if name.split(".")[0] in MART_SCHEMAS]
    assert len(marts) >= 8, f"too few marts found in DuckDB: {marts}"
    assert any(name.startswith("snapshots.") for name in duck)
    problems: dict[str, list[str]] = {}
    for name, table in duck.items():
        schema, identifier = name.split(".")
        directory = tiny_builds.spark_tables / f"{schema}.db" / identifier
        if not directory.is_dir():
            problems[name] = [f"no Spark table at {directory}"]
            continue
        found = differences(table, spark_table(directory, schema))  # duckdb against spark
        if found:
            problems[name] = found
    assert not problems, "\n".join(f"{n}: {p}" for n, p in problems.items())
    # the marts hold data (an empty pair of tables would compare equal)
    assert sum(len(duck[name].rows) for name in marts) > 100
