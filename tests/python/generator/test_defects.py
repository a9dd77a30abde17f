from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from prometheus.generator import defects
from prometheus.generator.defects import Defect, UnknownDefect, apply_events, apply_tables, resolve
from prometheus.generator.params import Params

P = Params(0.01, 7, dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def drop_first(tables, rng, p):
    return {**tables, "t": tables["t"].slice(1)}


def add_col(chunk, rng, p):
    return chunk.append_column("x", pa.array([int(rng.integers(0, 10))] * chunk.num_rows))


REG = {
    "b_drop": Defect("b_drop", "drop a row", apply=drop_first),
    "a_events": Defect("a_events", "events col", apply_events=add_col),
}


def test_registry_is_empty_for_now():
    assert defects.DEFECTS == {}


@pytest.mark.parametrize(
    ("names", "order"),
    [([], []), (["a_events", "b_drop"], ["b_drop", "a_events"]), (["b_drop"], ["b_drop"])],
)
def test_resolve_uses_registry_order(names, order):
    assert [d.name for d in resolve(names, REG)] == order


def test_resolve_rejects_unknown():
    with pytest.raises(UnknownDefect, match="unknown defect.s. nope .known: b_drop, a_events"):
        resolve(["nope"], REG)


def test_hooks_apply_deterministically():
    tables = {"t": pa.table({"v": [1, 2, 3]})}
    out = apply_tables(tables, resolve(["b_drop"], REG), P)
    assert out["t"].column("v").to_pylist() == [2, 3]
    assert tables["t"].num_rows == 3
    chunk = pa.table({"v": [1, 2]})
    a = apply_events(chunk, 0, resolve(["a_events"], REG), P)
    b = apply_events(chunk, 0, resolve(["a_events"], REG), P)
    assert a.equals(b) and a.column_names == ["v", "x"]
