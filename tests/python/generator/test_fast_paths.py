"""The generator's fast paths give exactly what the plain ones give: event months built in
threads, the numpy-joined ledger lines, fixed-width ids, the active-user bitmap."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prometheus.cli import main
from prometheus.generator import ledger
from prometheus.generator.columns import _ids_generic, ids, with_nulls
from prometheus.generator.contract import TABLES
from prometheus.generator.events import active_keys
from prometheus.generator.ledger_lines import booked_lines
from prometheus.generator.params import Params
from prometheus.generator.pipeline import Progress, build_memory_tables, default_workers, generate

TINY = Params(scale=0.01, seed=5, start=dt.date(2024, 1, 1), end=dt.date(2024, 6, 30))


def test_one_and_two_workers_write_identical_tables(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    generate(TINY, one, stderr=None, workers=1)
    generate(TINY, two, stderr=None, workers=2)
    for t in TABLES:
        a = pq.read_table(one / f"{t.key}.parquet")
        b = pq.read_table(two / f"{t.key}.parquet")
        assert a.schema == b.schema and a.equals(b), t.key
    assert (one / "_generation.json").read_text() == (two / "_generation.json").read_text()
    # DuckDB's spill folder is gone
    assert not [p for p in two.rglob("*") if p.name.startswith(".")]


def test_default_workers_leave_busy_cpus_alone(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("os.getloadavg", lambda: (0.1, 0.0, 0.0))
    assert default_workers() == 2
    monkeypatch.setattr("os.getloadavg", lambda: (1.7, 0.0, 0.0))
    assert default_workers() == 1
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))
    assert default_workers() == 1


def test_two_workers_with_an_events_defect(tmp_path):
    p = Params(TINY.scale, TINY.seed, TINY.start, TINY.end, ("duplicate_events_spike",))
    one, two = tmp_path / "one", tmp_path / "two"
    generate(p, one, stderr=None, workers=1)
    generate(p, two, stderr=None, workers=2)
    a = pq.read_table(one / "events/events.parquet")
    assert a.equals(pq.read_table(two / "events/events.parquet"))


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_bad_workers_exit_2(tmp_path, capsys, workers):
    out = tmp_path / "raw"
    args = ["generate", "--workers", workers, "--start", "2024-01-01", "--end", "2024-01-31"]
    assert main([*args, "--out", str(out)]) == 2
    assert "workers" in capsys.readouterr().err
    assert not out.exists()


SMALL = Params(0.02, 11, dt.date(2024, 1, 1), dt.date(2024, 9, 30))
Pair = tuple[pa.Table, pa.Table]


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return build_memory_tables(SMALL, Progress(None))[1]


def ledger_both_ways(tables, monkeypatch) -> tuple[Pair, Pair]:
    """(ledger, filings) as computed, and with the all-SQL path forced."""
    p = SMALL
    fast = ledger.build_ledger(p, tables)
    with monkeypatch.context() as m:
        m.setattr(ledger, "booked_lines", lambda t: None)
        sql = ledger.build_ledger(p, tables)
    return fast, sql


def test_ledger_lines_in_numpy_equal_the_sql_path(tables, monkeypatch):
    assert booked_lines(tables) is not None
    fast, sql = ledger_both_ways(tables, monkeypatch)
    assert fast[0].num_rows > 100
    assert fast[0].equals(sql[0]) and fast[0].schema == sql[0].schema
    assert fast[1].equals(sql[1]) and fast[1].schema == sql[1].schema


def _set(t: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = t.schema.get_field_index(name)
    return t.set_column(i, t.schema.field(i), values)


def _orders_with_an_odd_id(tables):
    orders = tables["app/orders"]
    ids_ = orders["order_id"].to_pylist()
    ids_[0] = "order-x"  # not of the o_00000000 form
    out = dict(tables)
    out["app/orders"] = _set(orders, "order_id", pa.array(ids_))
    return out


def _duplicate_order(tables):
    out = dict(tables)
    out["app/orders"] = pa.concat_tables([tables["app/orders"], tables["app/orders"].slice(3, 1)])
    return out


def _overlapping_costs(tables):
    costs = tables["finance/product_costs"]
    out = dict(tables)
    out["finance/product_costs"] = pa.concat_tables([costs, costs.slice(0, 1)])
    return out


def _null_price(tables):
    items = tables["app/order_items"]
    mask = np.zeros(items.num_rows, dtype=bool)
    mask[5] = True
    out = dict(tables)
    price = with_nulls(items["unit_price"].combine_chunks(), mask)
    out["app/order_items"] = _set(items, "unit_price", price)
    return out


@pytest.mark.parametrize(
    "change", [_orders_with_an_odd_id, _duplicate_order, _overlapping_costs, _null_price]
)
def test_input_that_is_not_plain_takes_the_sql_path(tables, monkeypatch, change):
    odd = change(tables)
    assert booked_lines(odd) is None
    fast, sql = ledger_both_ways(odd, monkeypatch)  # both the SQL path here
    assert fast[0].equals(sql[0]) and fast[1].equals(sql[1])


def test_a_null_status_or_test_flag_stays_on_the_fast_path(tables, monkeypatch):
    odd = dict(tables)
    orders, users = tables["app/orders"], tables["app/users"]
    mask = np.zeros(orders.num_rows, dtype=bool)
    mask[:50] = True
    odd["app/orders"] = _set(orders, "status", with_nulls(orders["status"].combine_chunks(), mask))
    umask = np.zeros(users.num_rows, dtype=bool)
    umask[:20] = True
    flag = with_nulls(users["is_test_account"].combine_chunks(), umask)
    odd["app/users"] = _set(users, "is_test_account", flag)
    assert booked_lines(odd) is not None
    fast, sql = ledger_both_ways(odd, monkeypatch)
    assert fast[0].equals(sql[0]) and fast[1].equals(sql[1])
    assert not fast[0].equals(ledger_both_ways(tables, monkeypatch)[0][0])


@pytest.mark.parametrize("width", [1, 3, 7, 8, 9, 10, 12])
def test_fixed_width_ids_equal_the_generic_ones(width):
    rng = np.random.default_rng(width)
    numbers = np.concatenate(
        [[0, 1, 9, 10 ** (width - 1), 10**width - 1], rng.integers(0, 10**width, 500)]
    )
    for prefix in ("", "u_", "e_202401_"):
        a = ids(prefix, numbers, width)
        a.validate(full=True)
        assert a.equals(_ids_generic(prefix, numbers, width))
    # too wide or negative numbers: the generic path, same text
    odd = np.array([10**width, 5, -3])
    assert ids("x", odd, width).equals(_ids_generic("x", odd, width))
    assert len(ids("x", np.zeros(0, dtype=np.int64), width)) == 0


def test_active_keys_bitmap_equals_unique():
    rng = np.random.default_rng(1)
    is_test = rng.random(1000) < 0.1
    day = rng.integers(19_800, 19_832, 20_000)
    user = rng.integers(-1, 1000, 20_000)
    keep = (user >= 0) & ~is_test[np.maximum(user, 0)]
    want = np.unique(day[keep] * 1000 + user[keep])
    assert np.array_equal(active_keys(day, user.copy(), is_test), want)
    wide = day.copy()
    wide[np.flatnonzero(keep)[0]] = 30_000_000  # a span too wide for a bitmap: np.unique
    want = np.unique(wide[keep] * 1000 + user[keep])
    assert np.array_equal(active_keys(wide, user.copy(), is_test), want)
