"""The Spark tests' shared data: one tiny dataset, built once on DuckDB and on Spark.

The equality test and the artifacts test read the same two builds; the
incremental test builds its own Spark warehouse from the same raw files.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dbt_harness import dbt_env, generate
from spark_harness import (
    TINY_ARGS,
    TINY_AS_OF,
    TinyBuilds,
    require_spark,
    spark_dbt,
    spark_env,
)


@pytest.fixture(scope="session")
def tiny_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TINY_ARGS generated once; read it, never change it."""
    require_spark()
    raw_dir = tmp_path_factory.mktemp("spark_tiny_raw") / "raw"
    generate(raw_dir, TINY_ARGS)
    return raw_dir


@pytest.fixture(scope="session")
def tiny_builds(tmp_path_factory: pytest.TempPathFactory, tiny_raw: Path) -> TinyBuilds:
    """`dbt build` of tiny_raw on the DuckDB default and on local Spark."""
    root = tmp_path_factory.mktemp("spark_vs_duckdb")
    vars_arg = f'{{as_of: "{TINY_AS_OF}"}}'
    duckdb_path = root / "duckdb" / "prometheus.duckdb"
    duckdb_path.parent.mkdir()
    duck_env = dbt_env(tiny_raw, duckdb_path)
    duck_env["PROMETHEUS_TARGET"] = "dev"
    spark_dbt(duck_env, root / "t_duck", "build", "--vars", vars_arg)

    env = spark_env(tiny_raw, root / "spark")
    started = time.monotonic()
    spark_dbt(env, root / "t_spark", "run-operation", "register_raw_sources")
    spark_dbt(env, root / "t_spark", "build", "--vars", vars_arg)
    seconds = time.monotonic() - started
    print(f"spark: register + build in {seconds:.0f} s")
    return TinyBuilds(
        tiny_raw, duckdb_path, root / "t_duck", root / "spark", root / "t_spark", seconds
    )
