"""The published copy and the build file never lock each other out (real build, real files).

DuckDB gives one process a file while it writes. Analysts read
warehouse/published.duckdb; dbt writes the build file; `prometheus publish`
renames a new copy over the published one. A reader left open through a dbt
run and a publication keeps its (last good) publication, and the next reader
sees the new one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dbt_harness import REPO_ROOT, Build, dbt

pytestmark = pytest.mark.slow

MARTS = {
    "profit": {"fct_order_item_profit", "fct_profit_monthly", "fct_profit_quarterly"},
    "growth": {"fct_active_users_daily", "fct_experiment_growth_daily", "fct_growth_monthly"},
    "engagement": {"fct_engagement_monthly"},
}


def _publish(build: Build, target_dir: Path, published: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prometheus.cli", "publish", "--target-dir", str(target_dir),
         "--duckdb-path", str(build.duckdb_path), "--published-path", str(published)],
        cwd=REPO_ROOT, env=build.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _tables(conn: duckdb.DuckDBPyConnection, database: str) -> set[tuple[str, str]]:
    rows = conn.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ?", [database]
    ).fetchall()
    return {(s, t) for s, t in rows}


@pytest.fixture(scope="module")
def published(clean_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert clean_build.returncode == 0, clean_build.output[-3000:]
    path = tmp_path_factory.mktemp("published") / "published.duckdb"
    result = _publish(clean_build, clean_build.target_dir, path)
    assert result.returncode == 0, result.stderr
    assert "published" in result.stderr
    return path


def test_publication_holds_the_public_marts_and_the_run_history(
    clean_build: Build, published: Path
) -> None:
    conn = duckdb.connect(str(published), read_only=True)
    try:
        tables = _tables(conn, published.stem)
        for schema, names in MARTS.items():
            assert {(schema, n) for n in names} <= tables
        # the observability schema (metric history here; the run history after `observe`)
        assert ("observability", "fct_profit_metrics_daily") in tables
        assert not {s for s, _ in tables} - {"profit", "growth", "engagement", "observability",
                                              "main"}  # fmt: skip
        conn.execute(f"attach '{clean_build.duckdb_path}' as build (read_only)")
        for schema, name in sorted(t for t in tables if t[0] != "main"):
            ours = conn.execute(f"select count(*) from {schema}.{name}").fetchone()
            theirs = conn.execute(f"select count(*) from build.{schema}.{name}").fetchone()
            assert ours == theirs, (schema, name)
        invocation = json.loads((clean_build.target_dir / "run_results.json").read_text())
        query = "select build_invocation_id, held_back_models from publication"
        assert conn.execute(query).fetchone() == (invocation["metadata"]["invocation_id"], [])
    finally:
        conn.close()


def test_a_reader_open_through_a_build_and_a_publication(
    clean_build: Build, published: Path, tmp_path: Path
) -> None:
    # the analyst's session, open the whole time
    reader = duckdb.connect(str(published), read_only=True)
    try:
        first = reader.execute("select published_at from publication").fetchone()
        months = reader.execute("select count(*) from growth.fct_growth_monthly").fetchone()

        # a dbt run writes the build file while the reader is open
        run_target = tmp_path / "target"
        shutil.copytree(clean_build.target_dir, run_target)
        run = dbt(["run", "--select", "fct_growth_monthly"], clean_build.env(), run_target)
        assert run.returncode == 0, run.stdout[-3000:]
        # ... and publishes over the file the reader holds
        again = _publish(clean_build, run_target, published)
        assert again.returncode == 0, again.stderr

        # the reader still reads its publication, unchanged
        assert reader.execute("select published_at from publication").fetchone() == first
        assert reader.execute("select count(*) from growth.fct_growth_monthly").fetchone() == months
    finally:
        reader.close()
    # a new reader sees the new publication, from the dbt run's invocation
    fresh = duckdb.connect(str(published), read_only=True)
    try:
        second, invocation = fresh.execute(
            "select published_at, build_invocation_id from publication"
        ).fetchone() or (None, None)
        assert first is not None and second is not None and second > first[0]
        ran = json.loads((run_target / "run_results.json").read_text())
        assert invocation == ran["metadata"]["invocation_id"]
        assert fresh.execute("select count(*) from growth.fct_growth_monthly").fetchone() == months
    finally:
        fresh.close()
    assert not list(published.parent.glob(".*.tmp")), "no temporary copy left behind"


def test_a_failed_build_keeps_the_last_publication(
    clean_build: Build, published: Path, tmp_path: Path
) -> None:
    results = json.loads((clean_build.target_dir / "run_results.json").read_text())
    broken = next(r for r in results["results"] if r["unique_id"].startswith("model."))
    broken["status"] = "error"
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    before = published.stat().st_ino, published.read_bytes()
    result = _publish(clean_build, tmp_path, published)
    assert result.returncode == 1
    assert f"not published: the build failed ({broken['unique_id']})" in result.stderr
    assert (published.stat().st_ino, published.read_bytes()) == before


def test_held_back_marts_are_published_with_their_last_good_rows(
    clean_build: Build, published: Path, tmp_path: Path
) -> None:
    results = json.loads((clean_build.target_dir / "run_results.json").read_text())
    for row in results["results"]:
        if row["unique_id"].endswith((".fct_growth_monthly", ".int_growth_monthly_audited")):
            row["status"] = "skipped"
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    result = _publish(clean_build, tmp_path, published)
    assert result.returncode == 0, result.stderr
    assert "held back, with their last good rows: growth.fct_growth_monthly" in result.stderr
    conn = duckdb.connect(str(published), read_only=True)
    try:
        held = conn.execute("select held_back_models from publication").fetchone()
        assert held == (["growth.fct_growth_monthly"],)
        assert conn.execute("select count(*) from growth.fct_growth_monthly").fetchone() != (0,)
    finally:
        conn.close()


def test_a_build_file_lacking_a_published_table_is_not_published(
    clean_build: Build, published: Path, tmp_path: Path
) -> None:
    # a new build file whose first build held a mart back: the mart was never built
    partial = tmp_path / "prometheus.duckdb"
    shutil.copy2(clean_build.duckdb_path, partial)
    conn = duckdb.connect(str(partial))
    conn.execute("drop table engagement.fct_engagement_monthly")
    conn.close()
    before = published.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "prometheus.cli", "publish", "--target-dir",
         str(clean_build.target_dir), "--duckdb-path", str(partial),
         "--published-path", str(published)],
        cwd=REPO_ROOT, env=clean_build.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "lacks engagement.fct_engagement_monthly, which the last publication has" in (
        result.stderr
    )
    assert published.read_bytes() == before
    assert not list(published.parent.glob(".*.tmp"))


def test_a_reader_holding_the_copy_read_write_does_not_stop_the_publication(
    clean_build: Build, published: Path
) -> None:
    mistaken = duckdb.connect(str(published))  # an analyst forgot read_only
    try:
        result = _publish(clean_build, clean_build.target_dir, published)
        assert mistaken.execute("select count(*) from main.publication").fetchone() == (1,)
    finally:
        mistaken.close()
    assert result.returncode == 0, result.stderr
    assert "publishing without comparing its tables" in result.stderr
    assert "published" in result.stderr.splitlines()[-1]


def test_a_first_publication_names_the_marts_held_back_before_ever_being_built(
    clean_build: Build, tmp_path: Path
) -> None:
    partial = tmp_path / "prometheus.duckdb"
    shutil.copy2(clean_build.duckdb_path, partial)
    conn = duckdb.connect(str(partial))
    conn.execute("drop table engagement.fct_engagement_monthly")
    conn.close()
    results = json.loads((clean_build.target_dir / "run_results.json").read_text())
    for row in results["results"]:
        if row["unique_id"].endswith(".fct_engagement_monthly"):
            row["status"] = "skipped"
    (tmp_path / "target").mkdir()
    (tmp_path / "target/run_results.json").write_text(json.dumps(results))
    first = tmp_path / "first.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "prometheus.cli", "publish", "--target-dir",
         str(tmp_path / "target"), "--duckdb-path", str(partial), "--published-path", str(first)],
        cwd=REPO_ROOT, env=clean_build.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        "held back before they were ever built, so not in the publication yet: "
        "fct_engagement_monthly"
    ) in result.stderr
