"""Fixtures: real dbt runs of a tiny DuckDB project, stored by `prometheus observe dbt`.

It is built twice through the wrapper, the second time with a defect in
the seed that makes the singular test fail, and its source freshness is
checked once.
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from tiny_dbt import DEFECT_SEED, Run, TinyRuns, observe_dbt, write_project


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
