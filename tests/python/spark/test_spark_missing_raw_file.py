"""On Spark, a raw file that is missing or not Parquet stops the registration, naming the file.

`dbt run-operation register_raw_sources` creates one view per raw file
(macros/register_raw_sources.sql); Spark reads each file's footer to create
it, so a missing file and a file that is not Parquet both fail there, before
any model runs, with a non-zero exit and a message naming the file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from spark_harness import spark_dbt_run, spark_env

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("defect", ["missing", "not parquet"])
def test_a_bad_raw_file_fails_the_registration_naming_it(
    tmp_path: Path, tiny_raw: Path, defect: str
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(tiny_raw, raw)
    bad = raw / "app" / "users.parquet"
    if defect == "missing":
        bad.unlink()
    else:
        bad.write_text("user_id,country\n1,DE\n")
    done = spark_dbt_run(
        spark_env(raw, tmp_path / "spark"),
        tmp_path / "target",
        "run-operation",
        "register_raw_sources",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert str(bad) in output, output[-3000:]
    # stopped there: no table was built
    assert not (tmp_path / "spark" / "tables" / "staging.db").exists()
