"""A raw file that is missing or not Parquet fails the build with a message naming the file."""

from __future__ import annotations

import pytest

from dbt_harness import dbt, dbt_env, generate

pytestmark = pytest.mark.slow  # a dbt run of the project


def test_missing_or_malformed_raw_files_are_named(tmp_path):
    raw_dir = tmp_path / "raw"
    generate(
        raw_dir, ["--scale", "0.002", "--seed", "3", "--start", "2024-01-01", "--end", "2024-01-31"]
    )
    missing = raw_dir / "app" / "users.parquet"
    missing.unlink()
    malformed = raw_dir / "app" / "products.parquet"
    malformed.write_text("product_id,name\n1,not parquet\n")

    result = dbt(
        ["run", "--select", "stg_app__users", "stg_app__products", "stg_app__orders"],
        dbt_env(raw_dir, tmp_path / "p.duckdb"),
        tmp_path / "target",
    )

    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert f"{raw_dir}/app/users.parquet" in output
    assert f"{raw_dir}/app/products.parquet" in output
    assert "ERROR=2" in output
    # the other model, whose file is there, still builds
    assert "PASS=1" in output
