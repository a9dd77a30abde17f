"""`prometheus bench` refuses bad arguments before running anything."""

from __future__ import annotations

import pytest

from prometheus.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "0"], "--scale must be positive"),
        (["--scale", "1", "--end", "2025-13-01"], "--start/--end"),
    ],
)
def test_bad_arguments(args: list[str], message: str, tmp_path, capsys) -> None:
    assert main(["bench", *args, "--work-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("has_pyspark", "has_java", "message"),
    [
        (False, True, "--target spark needs pyspark: uv sync --group spark"),
        (True, False, "--target spark needs Java: apt-get install openjdk-17-jre-headless"),
    ],
)
def test_spark_without_pyspark_or_java_is_refused_before_anything_runs(
    tmp_path, capsys, monkeypatch, has_pyspark: bool, has_java: bool, message: str
) -> None:
    # whatever this machine has installed: the check itself is under test
    monkeypatch.setattr(
        "prometheus.bench.cli.importlib.util.find_spec",
        lambda name: object() if has_pyspark else None,
    )
    monkeypatch.setattr(
        "prometheus.bench.cli.shutil.which", lambda name: "/usr/bin/java" if has_java else None
    )
    work = tmp_path / "work"
    assert main(["bench", "--scale", "0.1", "--target", "spark", "--work-dir", str(work)]) == 2
    assert message in capsys.readouterr().err
    assert not work.exists()  # nothing generated, nothing half-written


def test_an_unknown_target_is_refused(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bench", "--scale", "1", "--target", "snowflake", "--work-dir", str(tmp_path)])
    assert exited.value.code == 2
    assert "invalid choice: 'snowflake'" in capsys.readouterr().err
