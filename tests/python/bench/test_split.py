"""Holding back the last day of receipts: every delivery in exactly one file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from prometheus.bench.split import split

ROWS = """
    select * from (values
        ('e1', timestamp '2025-12-30 10:00:00'),
        ('e2', timestamp '2025-12-31 09:00:00'),
        ('e3', timestamp '2026-01-01 00:10:00'),
        ('e4', null)
    ) as t(event_id, received_at)
"""


@pytest.mark.parametrize(
    ("day", "held_back", "kept"),
    [
        (None, ["e3"], ["e1", "e2", "e4"]),  # default: the last day of receipt
        (dt.date(2025, 12, 31), ["e2", "e3"], ["e1", "e4"]),  # that day and after
    ],
)
def test_split(tmp_path: Path, day, held_back: list[str], kept: list[str]) -> None:
    events = tmp_path / "raw" / "events"
    events.mkdir(parents=True)
    duckdb.sql(f"copy ({ROWS}) to '{events / 'events.parquet'}' (format parquet)")
    parked = split(tmp_path / "raw", tmp_path / "parked", day)

    def ids(path: Path) -> list[str]:
        return [r[0] for r in duckdb.sql(f"select event_id from '{path}' order by 1").fetchall()]

    assert parked.name == f"events-{day or dt.date(2026, 1, 1)}.parquet"
    assert ids(parked) == held_back
    assert sorted(p.name for p in events.iterdir()) == ["events.parquet"]
    assert ids(events / "events.parquet") == kept
