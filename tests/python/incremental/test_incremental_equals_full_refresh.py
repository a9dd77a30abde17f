"""Daily incremental runs end where a full refresh of the same files ends.

One small dataset is generated, and its clickstream is delivered the way a
lake receives it: one file with everything received up to day D, then one
file per following day (D+1, D+2, D+3), each holding that day's receipts,
which include events that happened days earlier. The day files also carry
what makes incremental runs hard:

- deliveries received late on the previous day that land in the next file
  (they are older than the table's watermark: the lookback window finds them);
- redeliveries of events already loaded (same event_id, later receipt: not
  inserted twice);
- a delivery received *earlier* than the one already stored (it replaces it,
  as a full refresh would keep it).

The project is built on the first file, then once per day file
(`dbt build` without tests, seeds and snapshots included), the tests of the
event models run on the result, and the marts and the three incremental
models must equal a `--full-refresh` of the same files exactly.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pytest

from dbt_harness import CLEAN_AS_OF, dbt, dbt_env
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

pytestmark = pytest.mark.slow

# the same vars on every call, so dbt parses the project once (partial parsing)
VARS = ["--vars", f'{{as_of: "{CLEAN_AS_OF}"}}']


def table_rows(duckdb_path: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.sql(f"select * from {table} order by all").fetchall()


def same_value(left: object, right: object) -> bool:
    # DOUBLE averages depend on the order DuckDB adds the rows in (even two
    # full refreshes can differ in the last bit): equal to 1e-12 relative.
    # Everything else (counts, dates, decimals, ids) must be identical.
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-12, abs_tol=0.0)
    return left == right


def run_dbt(command: list[str], env: dict[str, str], target: Path) -> str:
    result = dbt(command, env, target)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, clean_raw: Path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("incremental")
    raw = root / "raw"
    # the session's dataset, with its clickstream split into deliveries
    shutil.copytree(clean_raw, raw, ignore=shutil.ignore_patterns("events"))
    split_deliveries(clean_raw / "events" / "events.parquet", raw / "events", DAY_D, DAY_FILES)
    day_files = sorted((raw / "events").glob("events-*.parquet"))
    parked = root / "parked"
    parked.mkdir()
    for path in day_files:
        path.rename(parked / path.name)

    incremental_db, target = root / "incremental.duckdb", root / "target"
    env = dbt_env(raw, incremental_db)
    run_dbt(["build", *NO_TESTS, *SELECT, *VARS], env, target)
    for path in day_files:
        (parked / path.name).rename(path)
        run_dbt(["build", *NO_TESTS, *SELECT, *VARS], env, target)
        # really incremental: a lookback filter and a delete+insert, not a rebuild
        ran = (target / "run" / "prometheus" / "models" / "staging" / "events").glob("*.sql")
        assert "delete from" in next(ran).read_text()
    # the event models' tests (unique event_id, one row per user and day, ...)
    run_dbt(["test", "--select", *EVENT_MODELS_TESTED, *VARS], env, target)

    # keep the incremental result; rebuild the same file from scratch
    kept = root / "after_incremental_runs.duckdb"
    shutil.copy(incremental_db, kept)
    run_dbt(["build", "--full-refresh", *NO_TESTS, *SELECT, *VARS], env, target)
    return kept, incremental_db


def test_the_day_files_hold_late_events_and_redeliveries(builds) -> None:
    raw = builds[1].parent / "raw" / "events"
    with duckdb.connect() as con:
        late, redelivered, older_than_the_day = con.sql(
            f"""
            with files as (
                select *, filename like '%events.parquet' as is_first
                from read_parquet('{raw}/events*.parquet', filename = true)
            )
            select
                count(*) filter (where cast(occurred_at as date) < cast(received_at as date)),
                count(*) filter (where event_id in (select event_id from files where is_first)),
                count(*) filter (where cast(received_at as date) <= date '{DAY_D}')
            from files
            where not is_first
            """
        ).fetchone()
    assert late > 0 and redelivered > 0 and older_than_the_day > 0


@pytest.mark.parametrize("table", MARTS + INCREMENTAL)
def test_incremental_runs_equal_a_full_refresh(builds, table: str) -> None:
    incremental_db, full_db = builds
    incremental, full = table_rows(incremental_db, table), table_rows(full_db, table)
    assert len(incremental) == len(full) > 0
    for inc_row, full_row in zip(incremental, full, strict=True):
        same = all(same_value(a, b) for a, b in zip(inc_row, full_row, strict=True))
        assert same, f"{table}: incremental {inc_row} != full refresh {full_row}"
