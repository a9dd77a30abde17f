"""Fixtures: real dbt runs stored by `prometheus observe dbt`, each made once per session.

- ``tiny_runs``: a tiny DuckDB project built twice through the wrapper, the
  second time with a defect in its seed that fails the singular test, and
  its source freshness checked once (seconds; for the history and adapter).
- ``project_runs``: this project on generated data, built twice into one
  warehouse, the second time with one order_id duplicated in the raw
  orders, then the report built (for the browser test).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from tiny_dbt import DEFECT_SEED, REPO_ROOT, ProjectRuns, Run, TinyRuns, observe_dbt, write_project


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> TinyRuns:
    root = tmp_path_factory.mktemp("tiny")
    project = write_project(root / "project")
    db_path, work_target = root / "warehouse.duckdb", root / "target"

    def run(name: str, *dbt_args: str) -> Run:
        done = observe_dbt(project, db_path, work_target, *dbt_args)
        kept = root / name
        kept.mkdir()
        for artifact in ("manifest.json", "run_results.json", "sources.json"):
            if (work_target / artifact).exists():
                shutil.copy(work_target / artifact, kept / artifact)
        return dataclasses.replace(done, target_dir=kept)

    ok = run("ok", "build")
    (project / "seeds/customers.csv").write_text(DEFECT_SEED, encoding="utf-8")
    failing = run("failing", "build")
    (work_target / "run_results.json").unlink()  # so the freshness copy holds only its own
    freshness = run("freshness", "source", "freshness")
    return TinyRuns(project, db_path, work_target, ok, failing, freshness)


# --------------------------------------------------------------------------- the real project

GENERATE_ARGS = ["--scale", "0.01", "--seed", "7", "--start", "2024-01-01", "--end", "2024-06-30"]
AS_OF = "2024-07-01T06:00:00"  # the morning after the data ends: recency checks pass
BUILD_TIMEOUT_S = 600


def duplicate_one_order(orders: Path) -> None:
    """The injected defect: the first order appears twice in the raw file."""
    scratch = orders.with_suffix(".tmp.parquet")
    with duckdb.connect() as conn:
        conn.execute(
            f"copy (select * from read_parquet('{orders}') union all "
            f"(select * from read_parquet('{orders}') order by order_id limit 1)) "
            f"to '{scratch}' (format parquet)"
        )
    os.replace(scratch, orders)


@pytest.fixture(scope="session")
def project_runs(tmp_path_factory: pytest.TempPathFactory) -> ProjectRuns:
    root = tmp_path_factory.mktemp("project")
    raw_dir, db_path, target_dir = root / "raw", root / "prometheus.duckdb", root / "target"
    env = {
        **os.environ,
        "PROMETHEUS_RAW_DIR": str(raw_dir),
        "PROMETHEUS_DUCKDB_PATH": str(db_path),
        "PROMETHEUS_DUCKDB_TEMP_DIR": str(root / "tmp"),
        "DO_NOT_TRACK": "1",
    }
    cli = [sys.executable, "-m", "prometheus.cli"]
    seconds: dict[str, float] = {}

    def step(name: str, *args: str) -> subprocess.CompletedProcess:
        started = time.perf_counter()
        done = subprocess.run(
            [*cli, *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
        seconds[name] = round(time.perf_counter() - started, 1)
        return done

    generated = step("generate", "generate", *GENERATE_ARGS, "--out", str(raw_dir))
    assert generated.returncode == 0, generated.stderr[-2000:]
    build = ["observe", "dbt", "--", "build", "--vars", f'{{as_of: "{AS_OF}"}}']
    build += ["--target-path", str(target_dir)]
    clean = step("clean build", *build)
    duplicate_one_order(raw_dir / "app" / "orders.parquet")
    defective = step("defective build", *build)
    # the data ends months before today, so every source is stale: stored either way
    freshness = ["observe", "dbt", "--", "source", "freshness", "--target-path", str(target_dir)]
    stale = step("source freshness", *freshness)
    assert "freshness results" in stale.stdout, stale.stdout[-2000:] + stale.stderr[-2000:]
    report_dir = root / "report"
    report = step(
        "report build",
        "report", "build", "--target-dir", str(target_dir),
        "--out", str(report_dir / "index.html"), "--runs", "30",
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-2000:]
    return ProjectRuns(
        raw_dir, db_path, target_dir, clean, defective, report_dir, report.stdout, seconds
    )
