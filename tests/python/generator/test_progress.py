"""The generator reports progress: a line per event month and the elapsed time on every line."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from prometheus.generator.params import make_params
from prometheus.generator.pipeline import generate


def test_every_line_says_the_elapsed_time_and_each_month_is_reported(tmp_path: Path) -> None:
    stream = io.StringIO()
    p = make_params("0.001", "3", "2024-01-01", "2024-03-31", today=dt.date(2024, 4, 1))
    generate(p, tmp_path / "raw", stderr=stream, workers=1)
    lines = stream.getvalue().splitlines()
    assert lines and all(re.search(r"\(elapsed \d+\.\d+s\)$", line) for line in lines), lines
    months = [line for line in lines if " month " in line]
    assert [re.search(r"month (\d{4}-\d{2}) \((\d)/3\)", m).groups() for m in months] == [  # type: ignore[union-attr]
        ("2024-01", "1"),
        ("2024-02", "2"),
        ("2024-03", "3"),
    ]
    assert lines[-1].startswith("generate: total")
