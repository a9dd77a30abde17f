"""A raw file that is missing fails the build with a message naming the file."""

from __future__ import annotations

import pytest

from dbt_harness import dbt, dbt_env, generate

pytestmark = pytest.mark.slow  # a dbt run of the project


def test_missing_raw_file_is_named(tmp_path):
    raw_dir = tmp_path / "raw"
    generate(
        raw_dir, ["--scale", "0.002", "--seed", "3", "--start", "2024-01-01", "--end", "2024-01-31"]
    )
    missing = raw_dir / "app" / "users.parquet"
    missing.unlink()

    result = dbt(
        ["run", "--select", "stg_app__users", "stg_app__orders"],
        dbt_env(raw_dir, tmp_path / "p.duckdb"),
        tmp_path / "target",
    )

    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert f"{raw_dir}/app/users.parquet" in output
    # the other model, whose file is there, still builds
    assert "1 of 2 OK" in output or "2 of 2 OK" in output
