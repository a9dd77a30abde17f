"""On Spark too, daily incremental runs end where a full refresh of the same files ends.

The Spark side of tests/python/incremental: the tiny dataset's clickstream is
split into a first delivery and three day files (late deliveries,
redeliveries, an earlier delivery of stored events: tests/python/deliveries.py),
the raw files are registered once, and the project's marts are built on the
first file and then once per day file, the new file found by the registered
view's glob. The incremental models take the Parquet form of delete+insert
(the new table written beside the old one, then swapped:
macros/spark/incremental_delete_insert.sql). The event models' tests run on
the result, which is kept, and must equal a `--full-refresh` of the same files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deliveries import (
    DAY_D,
    DAY_FILES,
    EVENT_MODELS_TESTED,
    INCREMENTAL,
    MARTS,
    NO_TESTS,
    SELECT,
    split_deliveries,
)
from spark_harness import (
    TINY_AS_OF,
    differences,
    spark_dbt,
    spark_env,
    spark_table,
    table_dir,
)

pytestmark = pytest.mark.slow

VARS = ["--vars", f'{{as_of: "{TINY_AS_OF}"}}']


def _table(root: Path, name: str) -> Path:
    schema, identifier = name.split(".")
    return table_dir(root, schema, identifier)


@pytest.fixture(scope="module")
def spark_runs(tmp_path_factory: pytest.TempPathFactory, tiny_raw: Path) -> tuple[Path, Path]:
    """(the tables after the daily runs, copied; the Spark dir after a full refresh)."""
    root = tmp_path_factory.mktemp("spark_incremental")
    raw = root / "raw"
    shutil.copytree(tiny_raw, raw, ignore=shutil.ignore_patterns("events"))
    split_deliveries(tiny_raw / "events" / "events.parquet", raw / "events", DAY_D, DAY_FILES)
    day_files = sorted((raw / "events").glob("events-*.parquet"))
    assert len(day_files) == DAY_FILES
    parked = root / "parked"
    parked.mkdir()
    for path in day_files:
        path.rename(parked / path.name)

    spark_dir, target = root / "spark", root / "target"
    env = spark_env(raw, spark_dir)
    spark_dbt(env, target, "run-operation", "register_raw_sources")
    spark_dbt(env, target, "build", *NO_TESTS, *SELECT, *VARS)
    run_sql = target / "run" / "prometheus" / "models" / "staging" / "events"
    for path in day_files:
        (parked / path.name).rename(path)
        spark_dbt(env, target, "build", *NO_TESTS, *SELECT, *VARS)
        # really incremental: the batch merged into a table written beside the old one
        [events_sql] = run_sql.glob("stg_events__events.sql")
        assert "stg_events__events__dbt_new" in events_sql.read_text()
    spark_dbt(env, target, "test", "--select", *EVENT_MODELS_TESTED, *VARS)

    kept = root / "after_incremental_runs"
    for name in MARTS + INCREMENTAL:
        shutil.copytree(_table(spark_dir, name), _table(kept, name))
    spark_dbt(env, target, "build", "--full-refresh", *NO_TESTS, *SELECT, *VARS)
    return kept, spark_dir


@pytest.mark.parametrize("name", MARTS + INCREMENTAL)
def test_spark_incremental_runs_equal_a_full_refresh(
    spark_runs: tuple[Path, Path], name: str
) -> None:
    kept, full = spark_runs
    schema = name.split(".")[0]
    incremental = spark_table(_table(kept, name), schema)
    refreshed = spark_table(_table(full, name), schema)
    assert len(refreshed.rows) > 0
    found = differences(incremental, refreshed)  # incremental against full refresh
    assert not found, f"{name}: {found}"
