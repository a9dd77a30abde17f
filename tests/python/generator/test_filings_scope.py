"""Only whole quarters are filed: data starting mid-quarter files from the next quarter on."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from prometheus.generator.params import Params
from prometheus.generator.pipeline import generate


@pytest.mark.parametrize(
    ("start", "end", "expected_quarters"),
    [
        (dt.date(2024, 11, 30), dt.date(2025, 8, 15), ["2025-Q1", "2025-Q2"]),
        (dt.date(2025, 1, 1), dt.date(2025, 8, 15), ["2025-Q1", "2025-Q2"]),
        (dt.date(2025, 1, 2), dt.date(2025, 8, 15), ["2025-Q2"]),
    ],
)
def test_only_whole_quarters_are_filed(tmp_path, start, end, expected_quarters):
    out = tmp_path / "raw"
    generate(Params(scale=0.005, seed=3, start=start, end=end), out, stderr=None)
    quarters = duckdb.sql(
        f"select distinct fiscal_quarter from '{out}/finance/filings.parquet' order by 1"
    ).fetchall()
    assert [q for (q,) in quarters] == expected_quarters
