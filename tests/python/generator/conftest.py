from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from prometheus.generator.contract import TABLES
from prometheus.generator.params import Params
from prometheus.generator.pipeline import generate

SMALL = Params(scale=0.02, seed=11, start=dt.date(2024, 1, 1), end=dt.date(2024, 9, 30))


@pytest.fixture(scope="session")
def small_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "raw"
    generate(SMALL, out, stderr=None)
    return out


@pytest.fixture(scope="session")
def small_params() -> Params:
    return SMALL


@pytest.fixture(scope="session")
def con(small_out: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for t in TABLES:
        c.execute(f"create view {t.name} as select * from '{small_out}/{t.key}.parquet'")
    return c
