"""Run history in the warehouse: what `prometheus observe` stores, once, whole or not at all."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from tiny_dbt import FAILING_TEST, TinyRuns, observe_dbt

from prometheus.artifacts import load_target
from prometheus.observability import history


def _counts(db_path: Path) -> dict[str, int]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return {
            table: conn.execute(f"select count(*) from observability.{table}").fetchone()[0]
            for table in ("invocations", "model_runs", "test_results", "source_freshness")
        }


def test_wrapper_returns_dbt_exit_codes(tiny_runs: TinyRuns) -> None:
    assert tiny_runs.ok.exit_code == 0, tiny_runs.ok.stderr
    assert tiny_runs.failing.exit_code == 1, "a failing test must fail the wrapped build"
    # a stale source is an error of the check; `dbt source freshness` exits 1
    assert tiny_runs.freshness.exit_code == 1
    for run in (tiny_runs.ok, tiny_runs.failing, tiny_runs.freshness):
        assert "stored" in run.stdout, run.stdout + run.stderr


def test_every_invocation_is_stored_with_its_outcome(tiny_runs: TinyRuns) -> None:
    with duckdb.connect(str(tiny_runs.db_path), read_only=True) as conn:
        rows = conn.execute(
            "select command, success, results_fail, results_error "
            "from observability.invocations order by generated_at"
        ).fetchall()
    assert rows == [
        ("build", True, 0, 0),
        ("build", False, 1, 0),
        ("source-freshness", False, 1, 0),
    ]


def test_failing_test_is_stored_with_failures_message_and_code(tiny_runs: TinyRuns) -> None:
    with duckdb.connect(str(tiny_runs.db_path), read_only=True) as conn:
        rows = conn.execute(
            """
            select i.success, t.status, t.failures, t.message, t.compiled_code,
                   t.test_kind, t.tested_unique_id, t.execution_time, t.started_at
            from observability.test_results as t
            join observability.invocations as i using (invocation_id)
            where t.test_unique_id like ? order by i.generated_at
            """,
            [FAILING_TEST + "%"],
        ).fetchall()
    assert [r[:3] for r in rows] == [(True, "pass", 0), (False, "fail", 2)]
    _, _, _, message, code, kind, tested, seconds, started = rows[1]
    assert message.startswith("Got 2 results")
    assert "status = 'blocked'" in code
    assert (kind, tested) == ("singular", "model.tiny.stg_customers")
    assert seconds > 0 and started is not None


def test_model_runs_and_freshness_are_stored(tiny_runs: TinyRuns) -> None:
    with duckdb.connect(str(tiny_runs.db_path), read_only=True) as conn:
        runs = conn.execute(
            "select resource_type, name, status, materialization from observability.model_runs "
            "order by generated_at, started_at"
        ).fetchall()
        fresh = conn.execute(
            "select source_name, table_name, status, max_loaded_at, error_after "
            "from observability.source_freshness"
        ).fetchall()
    one_build = [
        ("seed", "customers", "success", "seed"),
        ("model", "stg_customers", "success", "view"),
        ("snapshot", "snap_customers", "success", "snapshot"),
    ]
    # the second build skips the snapshot: the failing test on its model comes first
    failing_build = [*one_build[:2], ("snapshot", "snap_customers", "skipped", "snapshot")]
    assert runs == one_build + failing_build
    [(source, table, status, max_loaded_at, error_after)] = fresh
    assert (source, table, status) == ("raw", "customers", "error")
    assert max_loaded_at.isoformat() == "2024-01-05T00:00:00"
    assert json.loads(error_after) == {"count": 24, "period": "hour"}


def test_ingesting_the_same_run_twice_adds_nothing(tiny_runs: TinyRuns) -> None:
    before = _counts(tiny_runs.db_path)
    artifacts = load_target(tiny_runs.failing.target_dir)
    with history.connect(tiny_runs.db_path) as conn:
        outcomes = history.ingest(conn, artifacts)
    assert [o.stored for o in outcomes] == [False]
    assert "already stored" in outcomes[0].describe()
    assert _counts(tiny_runs.db_path) == before


def test_a_failing_ingest_stores_nothing_and_keeps_what_was_stored(
    tiny_runs: TinyRuns, tmp_path: Path
) -> None:
    db_path = tmp_path / "copy.duckdb"
    shutil.copy(tiny_runs.db_path, db_path)
    before = _counts(db_path)
    artifacts = load_target(tiny_runs.failing.target_dir)
    assert artifacts.run_results is not None
    # a new invocation whose last result repeats an earlier one: its insert
    # fails after the invocation row and the first results went in
    broken = dataclasses.replace(
        artifacts.run_results,
        invocation_id="broken-run",
        results=(*artifacts.run_results.results, artifacts.run_results.results[-1]),
    )
    with history.connect(db_path) as conn, pytest.raises(duckdb.ConstraintException):
        history.ingest_run_results(conn, broken, artifacts.manifest, now=broken.generated_at)
    assert _counts(db_path) == before
    with duckdb.connect(str(db_path), read_only=True) as conn:
        assert not conn.execute(
            "select * from observability.test_results where invocation_id = 'broken-run'"
        ).fetchall()


def test_ingest_command_is_idempotent(tiny_runs: TinyRuns, capsys: pytest.CaptureFixture) -> None:
    from prometheus.cli import main

    before = _counts(tiny_runs.db_path)
    code = main(
        [
            "observe",
            "ingest",
            "--target-dir",
            str(tiny_runs.ok.target_dir),
            "--duckdb-path",
            str(tiny_runs.db_path),
        ]
    )
    assert code == 0
    assert "already stored" in capsys.readouterr().out
    assert _counts(tiny_runs.db_path) == before


def test_ingest_into_an_unusable_warehouse_exits_3(
    tiny_runs: TinyRuns, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from prometheus.cli import main

    not_a_database = tmp_path / "corrupt.duckdb"
    not_a_database.write_text("this is not a DuckDB file", encoding="utf-8")
    target = str(tiny_runs.ok.target_dir)
    code = main(["observe", "ingest", "--target-dir", target, "--duckdb-path", str(not_a_database)])
    assert code == 3
    assert "run history not stored" in capsys.readouterr().err
    assert not_a_database.read_text(encoding="utf-8") == "this is not a DuckDB file"


def test_storing_failure_does_not_hide_a_failed_build(tiny_runs: TinyRuns, tmp_path: Path) -> None:
    not_a_database = tmp_path / "corrupt.duckdb"
    not_a_database.write_text("this is not a DuckDB file", encoding="utf-8")
    shutil.copy(tiny_runs.db_path, tmp_path / "wh.duckdb")
    run = observe_dbt(
        tiny_runs.project_dir,
        tmp_path / "wh.duckdb",
        tiny_runs.work_target,
        "test",
        "--select",
        "assert_no_blocked_customers",
        duckdb_path=not_a_database,
    )
    assert run.exit_code == 1  # dbt's: the test failed
    assert "run history not stored" in run.stderr


def test_read_history_keeps_the_last_n_runs(tiny_runs: TinyRuns) -> None:
    with history.connect(tiny_runs.db_path, read_only=True) as conn:
        last_one = history.read_history(conn, runs=1, days_back=30)
        both = history.read_history(conn, runs=30, days_back=30)
    failing_last = [r for r in last_one.test_results if r["test_unique_id"] == FAILING_TEST]
    failing_both = [r for r in both.test_results if r["test_unique_id"] == FAILING_TEST]
    assert [r["status"] for r in failing_last] == ["fail"]
    assert [r["status"] for r in failing_both] == ["pass", "fail"]
    assert len(both.model_runs) == 2 and len(last_one.model_runs) == 1  # models only
    assert len(both.source_freshness) == 1
    assert len(both.invocations) == 3


def test_dbt_failing_before_it_runs_keeps_its_code_and_stores_nothing(
    tiny_runs: TinyRuns, tmp_path: Path
) -> None:
    db_path = tmp_path / "wh.duckdb"
    # `--version` with `--target-path` is a usage error: dbt exits 2, writes nothing
    run = observe_dbt(tiny_runs.project_dir, db_path, tiny_runs.work_target, "--version")
    assert run.exit_code == 2
    assert "nothing to store" in run.stderr
    assert not db_path.exists()


# --------------------------------------------------------------------------- layout migrations


def test_an_older_warehouse_is_migrated_not_broken(tiny_runs: TinyRuns, tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as conn:
        conn.execute(history.DDL)  # layout 1, as written before schema_version existed
        conn.execute(  # an old row, inserted the old way: every column, by position
            "insert into observability.test_results values "
            "('old-run', 'test.tiny.x', 'test', null, null, null, null, null, null, 'pass', "
            "0, null, null, null, null, null, null, null, null)"
        )
        assert history.schema_version(conn) == 1
    with history.connect(db) as conn:
        outcomes = history.ingest(conn, load_target(tiny_runs.failing.target_dir))
        assert [o.stored for o in outcomes] == [True]
        assert history.schema_version(conn) == history.SCHEMA_VERSION == 3
        versions = conn.execute("select version from observability.schema_version").fetchall()
        assert versions == [(2,), (3,)]  # only the missing migrations ran
        [(engine,)] = conn.execute(
            "select distinct adapter_type from observability.invocations"
        ).fetchall()
        assert engine == "duckdb"  # the new column filled for the new run
        rows = conn.execute(
            "select invocation_id, status, failures_relation from observability.test_results "
            "order by invocation_id = 'old-run' desc, test_unique_id"
        ).fetchall()
    assert rows[0] == ("old-run", "pass", None)  # the old row kept, the new column NULL
    assert len(rows) == 1 + outcomes[0].test_results
    assert outcomes[0].test_results > 0


def test_a_new_warehouse_records_every_layout(tiny_runs: TinyRuns, tmp_path: Path) -> None:
    with history.connect(tmp_path / "new.duckdb") as conn:
        history.ingest(conn, load_target(tiny_runs.ok.target_dir))
        history.ingest(conn, load_target(tiny_runs.ok.target_dir))  # again: nothing new
        versions = conn.execute(
            "select version from observability.schema_version order by version"
        ).fetchall()
    assert versions == [(v,) for v, _, _ in history.MIGRATIONS]
