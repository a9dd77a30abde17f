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
