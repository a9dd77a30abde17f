"""Shared fixtures: one real generated dataset and one real `dbt build` on DuckDB.

The dataset is generated once per test session and the clean build made once
from it (in temporary folders); every test module that needs either shares
them: modules that change the files copy the dataset first. Nothing is
written by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbt_harness import CLEAN_ARGS, CLEAN_AS_OF, Build, dbt, dbt_env, generate


@pytest.fixture(scope="session")
def clean_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean dataset (CLEAN_ARGS), generated once; read it, never change it."""
    raw_dir = tmp_path_factory.mktemp("clean_raw") / "raw"
    generate(raw_dir, CLEAN_ARGS)
    return raw_dir


@pytest.fixture(scope="session")
def clean_build(tmp_path_factory: pytest.TempPathFactory, clean_raw: Path) -> Build:
    """Generated clean data, built with `dbt build` (seeds, models, snapshots, tests)."""
    root = tmp_path_factory.mktemp("clean_build")
    raw_dir, duckdb_path, target_dir = clean_raw, root / "prometheus.duckdb", root / "target"
    result = dbt(
        ["build", "--vars", f'{{as_of: "{CLEAN_AS_OF}"}}'],
        dbt_env(raw_dir, duckdb_path),
        target_dir,
    )
    return Build(raw_dir, duckdb_path, target_dir, result.returncode, result.stdout + result.stderr)


# Fixtures that generate data at the project's scale or run the whole dbt
# project: a test that uses one is in the slow tier (`pytest -m slow`); the
# fast tier (`pytest -m "not slow"`) is pure logic, literal rows and small
# committed fixtures. Modules that build on their own mark themselves.
SLOW_FIXTURES = frozenset({"clean_raw", "clean_build", "project_runs", "tiny_runs"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
