"""A restated month already reported to investors shows as a new version.

Starting from the clean build, one closed month of the published growth
mart is restated (as a corrected rebuild would), then `dbt snapshot` runs:
the as-reported snapshot keeps the figure first published, closed, beside
the restated one, and months that did not change keep one version.
"""

from __future__ import annotations

import shutil

import duckdb

from dbt_harness import CLEAN_AS_OF, Build, dbt, dbt_env

RESTATED_MONTH = "2024-03-01"


def versions(duckdb_path, month):
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.execute(
            "select monthly_active_users, dbt_valid_to is null as is_current"
            " from snapshots.snap_growth_monthly_as_reported where month = ?"
            " order by dbt_valid_from",
            [month],
        ).fetchall()


def test_restatement_of_a_reported_month_is_visible(clean_build: Build, tmp_path):
    assert clean_build.returncode == 0, clean_build.output[-3000:]
    duckdb_path = tmp_path / "p.duckdb"
    shutil.copy(clean_build.duckdb_path, duckdb_path)
    [(reported, is_current)] = versions(duckdb_path, RESTATED_MONTH)
    assert is_current
    before_april = versions(duckdb_path, "2024-04-01")
    assert len(before_april) == 1

    with duckdb.connect(str(duckdb_path)) as con:
        con.execute(
            "update growth.fct_growth_monthly set monthly_active_users = monthly_active_users + 7"
            " where month = ?",
            [RESTATED_MONTH],
        )
    as_of = f'{{as_of: "{CLEAN_AS_OF}"}}'
    result = dbt(
        ["snapshot", "--select", "snap_growth_monthly_as_reported", "--vars", as_of],
        dbt_env(clean_build.raw_dir, duckdb_path),
        tmp_path / "target",
    )
    assert result.returncode == 0, result.stdout[-3000:]

    assert versions(duckdb_path, RESTATED_MONTH) == [(reported, False), (reported + 7, True)]
    assert versions(duckdb_path, "2024-04-01") == before_april
