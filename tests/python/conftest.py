"""Shared fixtures: a real generated dataset and a real `dbt build` on DuckDB.

The clean build is made once per test session (in a temporary folder) and
shared by every test module that needs it; nothing is written by hand.
"""

from __future__ import annotations

import pytest

from dbt_harness import CLEAN_ARGS, CLEAN_AS_OF, Build, dbt, dbt_env, generate


@pytest.fixture(scope="session")
def clean_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Generated clean data, built with `dbt build` (seeds, models, snapshots, tests)."""
    root = tmp_path_factory.mktemp("clean_build")
    raw_dir, duckdb_path, target_dir = root / "raw", root / "prometheus.duckdb", root / "target"
    generate(raw_dir, CLEAN_ARGS)
    result = dbt(
        ["build", "--vars", f'{{as_of: "{CLEAN_AS_OF}"}}'],
        dbt_env(raw_dir, duckdb_path),
        target_dir,
    )
    return Build(raw_dir, duckdb_path, target_dir, result.returncode, result.stdout + result.stderr)
