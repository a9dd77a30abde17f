"""The defect registry: resolution, and every registered defect at CI scale.

The clean tables and event chunks are built once per module; each defect is applied
directly to them (table-driven over ``CHECKS``). For each defect: the intended change
is there (and the same assertion fails on clean data), every other table is equal,
the contract schema is kept unless the defect is a schema change, and the result is
deterministic. One end-to-end run goes through ``prometheus generate --defect``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import prometheus.cli
from prometheus.cli import main
from prometheus.generator import defects
from prometheus.generator.contract import BY_KEY
from prometheus.generator.defects import (
    DEFECTS,
    Defect,
    UnknownDefect,
    apply_events,
    apply_tables,
    resolve,
)
from prometheus.generator.events import iter_events
from prometheus.generator.ledger import ActiveUsers, build_ledger
from prometheus.generator.params import Params
from prometheus.generator.pipeline import EVENTS_KEY, Progress, build_memory_tables

P = Params(0.01, 7, dt.date(2024, 1, 1), dt.date(2024, 1, 31))
CI = Params(0.01, 7, dt.date(2024, 1, 1), dt.date(2024, 9, 30))
CI_ARGS = ["--scale", "0.01", "--start", "2024-01-01", "--end", "2024-09-30"]
END = CI.end
CLOSED = CI.end - dt.timedelta(days=20)

T = dict[str, pa.Table]

# --- registry mechanics (toy registry) ----------------------------------------------------


def drop_first(tables, rng, p):
    return {**tables, "t": tables["t"].slice(1)}


def add_col(chunk, rng, p):
    return chunk.append_column("x", pa.array([int(rng.integers(0, 10))] * chunk.num_rows))


REG = {
    "b_drop": Defect("b_drop", "drop a row", apply=drop_first),
    "a_events": Defect("a_events", "events col", apply_events=add_col),
}


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


# --- the real defects on CI-scale clean data -----------------------------------------------


@pytest.fixture(scope="module")
def clean() -> tuple[T, list[tuple[int, pa.Table]]]:
    users, tables = build_memory_tables(CI, Progress(None))
    active = ActiveUsers(users.table.num_rows)
    chunks = []
    for month in iter_events(CI, users):
        active.add(month.active)
        chunks.append((month.month.index, month.table))
    ledger, filings = build_ledger(CI, tables)
    tables["finance/ledger_entries"] = ledger
    tables["finance/filings"] = filings
    tables["analytics/active_user_counts"] = active.table(CI)
    return tables, chunks


def run(clean, name: str) -> T:
    """All tables (events concatenated) after applying defect ``name`` to the clean data."""
    tables, chunks = clean
    d = DEFECTS[name]
    out = apply_tables(tables, [d], CI)
    out[EVENTS_KEY] = pa.concat_tables([apply_events(c, i, [d], CI) for i, c in chunks])
    return out


@pytest.fixture(scope="module")
def before(clean) -> T:
    tables, chunks = clean
    return {**tables, EVENTS_KEY: pa.concat_tables([c for _, c in chunks])}


@pytest.fixture(scope="module")
def after(clean) -> Callable[[str], T]:
    return functools.cache(lambda name: run(clean, name))


# --- helpers for the checks ------------------------------------------------------------------


def q(sql: str, **tables: pa.Table) -> list[tuple]:
    con = duckdb.connect()
    for name, t in tables.items():
        con.register(name, t)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def one(sql: str, **tables: pa.Table):
    return q(sql, **tables)[0][0]


def nulls(t: pa.Table, col: str) -> int:
    return t[col].null_count


def same_except(b: pa.Table, a: pa.Table, *cols: str) -> None:
    """Same rows, and equal in every column but ``cols``."""
    assert a.num_rows == b.num_rows
    assert a.drop_columns(list(cols)).equals(b.drop_columns(list(cols)))


def rows_except(a: pa.Table, b: pa.Table) -> int:
    """Rows of ``b`` missing from ``a`` (multiset difference)."""
    return one("select count(*) from (select * from b except all select * from a)", a=a, b=b)


E, ORD, ITM, U = EVENTS_KEY, "app/orders", "app/order_items", "app/users"
EV_DAY = "cast(occurred_at as date)"


def c_null_order_id(b: T, a: T) -> None:
    same_except(b[ORD], a[ORD], "order_id")
    assert nulls(a[ORD], "order_id") - nulls(b[ORD], "order_id") == 3
    lost = b[ORD]["order_id"].filter(pc.is_null(a[ORD]["order_id"]))
    assert pc.sum(pc.is_in(a[ITM]["order_id"], value_set=lost.combine_chunks())).as_py() >= 3


def c_null_event_id(b: T, a: T) -> None:
    same_except(b[E], a[E], "event_id")
    month = one(
        f"select count(*) from e where date_trunc('month', occurred_at) = "
        f"date '{CLOSED.replace(day=1)}'",
        e=b[E],
    )
    new = nulls(a[E], "event_id") - nulls(b[E], "event_id")
    assert 0.003 * month <= new <= 0.008 * month
    months = q(
        "select distinct cast(date_trunc('month', occurred_at) as date) from e "
        "where event_id is null",
        e=a[E],
    )
    assert [m[0] for m in months] == [CLOSED.replace(day=1)]


def c_null_unit_price(b: T, a: T) -> None:
    same_except(b[ITM], a[ITM], "unit_price")
    rates = q(
        "select cast(o.ordered_at as date) d, avg(case when i.unit_price is null then 1 else 0 end)"
        " from i join o using (order_id) where o.status <> 'cancelled' group by d",
        i=a[ITM],
        o=a[ORD],
    )
    assert len(rates) > 200 and min(r[1] for r in rates) > 0.01
    share = (nulls(a[ITM], "unit_price") - nulls(b[ITM], "unit_price")) / b[ITM].num_rows
    assert 0.02 <= share <= 0.05


def c_null_country(b: T, a: T) -> None:
    same_except(b[U], a[U], "country")
    assert nulls(a[U], "country") - nulls(b[U], "country") == round(0.05 * b[U].num_rows)


def c_duplicate_events_spike(b: T, a: T) -> None:
    assert rows_except(a[E], b[E]) == 0  # every original row is still there
    extra = a[E].num_rows - b[E].num_rows
    assert 0.025 * b[E].num_rows <= extra <= 0.031 * b[E].num_rows
    dups = "select count(*) - count(distinct event_id) from e"
    assert one(dups, e=a[E]) - one(dups, e=b[E]) == extra
    differing = one(
        "select count(*) from (select event_id from e group by event_id having count(distinct "
        "(user_id, session_id, event_name, occurred_at, platform)) > 1)",
        e=a[E],
    )
    assert differing == 0
    assert one("select max(_loaded_at) from e", e=a[E]) <= CI.extraction_time


def c_batch_loaded_twice(b: T, a: T) -> None:
    day = f"cast(ordered_at as date) = date '{CLOSED}'"
    n_orders = one(f"select count(*) from o where {day}", o=b[ORD])
    n_items = one(f"select count(*) from i join o using (order_id) where {day}", i=b[ITM], o=b[ORD])
    assert n_orders > 10 and n_items > n_orders
    assert a[ORD].slice(0, b[ORD].num_rows).equals(b[ORD]) and a[ITM].slice(
        0, b[ITM].num_rows
    ).equals(b[ITM])
    assert a[ORD].num_rows - b[ORD].num_rows == n_orders
    assert a[ITM].num_rows - b[ITM].num_rows == n_items
    twice = "select count(*) from (select {k} from t group by {k} having count(*) = 2)"
    assert one(twice.format(k="order_id"), t=a[ORD]) == n_orders
    assert one(twice.format(k="order_item_id"), t=a[ITM]) == n_items
    later = "select bool_and(_loaded_at > ordered_at + interval 1 day) from t where {d}"
    assert one(later.format(d=day), t=a[ORD].slice(b[ORD].num_rows))


def c_late_last_day(b: T, a: T) -> None:
    last = f"{EV_DAY} = date '{END}'"
    n_b = one(f"select count(*) from e where {last}", e=b[E])
    n_a = one(f"select count(*) from e where {last}", e=a[E])
    assert n_b > 100 and 0.4 * n_b <= n_a <= 0.6 * n_b
    assert rows_except(a[E], b[E]) == n_b - n_a and a[E].num_rows == b[E].num_rows - n_b + n_a


def c_stale_source(b: T, a: T) -> None:
    cut = dt.datetime.combine(END - dt.timedelta(days=2), dt.time())
    assert one("select max(received_at) from e", e=a[E]) < cut
    kept = b[E].filter(pc.less(b[E]["received_at"], pa.scalar(cut, pa.timestamp("us"))))
    assert kept.num_rows < b[E].num_rows - 1000 and a[E].equals(kept)


def c_empty_refunds(b: T, a: T) -> None:
    assert b["app/refunds"].num_rows > 0 and a["app/refunds"].num_rows == 0


def c_missing_day(b: T, a: T) -> None:
    on_day = f"select count(*) from e where {EV_DAY} = date '{CLOSED}'"
    assert one(on_day, e=b[E]) > 100 and one(on_day, e=a[E]) == 0
    assert a[E].num_rows == b[E].num_rows - one(on_day, e=b[E])
    assert rows_except(b[E], a[E]) == 0


def c_renamed_column(b: T, a: T) -> None:
    names = b[ORD].column_names
    assert a[ORD].column_names == [("currency_code" if n == "currency" else n) for n in names]
    assert a[ORD].rename_columns(names).equals(b[ORD])


def c_new_platform(b: T, a: T) -> None:
    same_except(b[E], a[E], "platform")
    tv = "select count(*) from e where platform = 'smart_tv'"
    assert 0.007 * a[E].num_rows <= one(tv, e=a[E]) <= 0.013 * a[E].num_rows
    assert one(tv, e=b[E]) == 0


def c_absurd_price(b: T, a: T) -> None:
    same_except(b[ITM], a[ITM], "unit_price")
    absurd = (
        "select count(*) from i join o using (order_id) join u using (user_id) "
        "where i.unit_price = 9999999.00 and o.status <> 'cancelled' and not u.is_test_account"
    )
    assert one(absurd, i=a[ITM], o=a[ORD], u=a[U]) == 2
    assert one(absurd, i=b[ITM], o=b[ORD], u=b[U]) == 0


def c_refund_wrong_sign(b: T, a: T) -> None:
    r = "app/refunds"
    same_except(b[r], a[r], "amount")
    assert b[r].num_rows > 0 and one("select bool_and(amount < 0) from r", r=a[r])
    assert pc.negate(a[r]["amount"]).equals(b[r]["amount"])


def c_fx_gap(b: T, a: T) -> None:
    fx = "finance/fx_rates"
    gone = q("select * from b except all select * from a", a=a[fx], b=b[fx])
    assert rows_except(b[fx], a[fx]) == 0 and len(gone) == 3
    days = sorted(g[0] for g in gone)
    assert {g[1] for g in gone} == {"EUR"}
    assert [(d - days[0]).days for d in days] == [0, 1, 2]
    assert days[-1] <= END - dt.timedelta(days=7)
    eur_days = q(
        "select distinct cast(ordered_at as date) from o where currency = 'EUR' "
        "and status <> 'cancelled'",
        o=a[ORD],
    )
    assert set(days) <= {d[0] for d in eur_days}


def c_missing_product_cost(b: T, a: T) -> None:
    pcosts = "finance/product_costs"
    top = [
        r[0]
        for r in q(
            "select product_id from i group by product_id order by count(*) desc, product_id "
            "limit 3",
            i=a[ITM],
        )
    ]
    left = q("select distinct product_id from c", c=a[pcosts])
    assert not set(top) & {r[0] for r in left}
    assert rows_except(b[pcosts], a[pcosts]) == 0
    gone = b[pcosts].num_rows - a[pcosts].num_rows
    assert (
        gone == one(f"select count(*) from c where product_id in {tuple(top)}", c=b[pcosts])
        and gone >= 3
    )


def c_test_flag_missing(b: T, a: T) -> None:
    same_except(b[U], a[U], "is_test_account")
    n_test = one("select count(*) from u where is_test_account", u=b[U])
    assert n_test > 0 and nulls(a[U], "is_test_account") == n_test
    assert one("select count(*) from u where is_test_account", u=a[U]) == 0


def c_filings_off(b: T, a: T) -> None:
    f = "finance/filings"
    same_except(b[f], a[f], "reported_usd")
    diff = q(
        "select a.fiscal_quarter, a.reported_usd / b.reported_usd from a join b "
        "using (fiscal_quarter, metric) where a.reported_usd <> b.reported_usd",
        a=a[f],
        b=b[f],
    )
    assert len(diff) == 3 and len({d[0] for d in diff}) == 1
    assert all(abs(float(d[1]) - 1.02) < 1e-4 for d in diff)


def c_active_users_off(b: T, a: T) -> None:
    f = "analytics/active_user_counts"
    same_except(b[f], a[f], "active_users")
    diff = q(
        "select activity_date, a.active_users, b.active_users from a join b using (activity_date)"
        " where a.active_users <> b.active_users",
        a=a[f],
        b=b[f],
    )
    assert len(diff) == 10
    assert all(d[0] <= END - dt.timedelta(days=7) for d in diff)
    assert all(d[1] == int(Decimal(d[2]) * Decimal("0.97") + Decimal("0.5")) for d in diff)


def c_future_events(b: T, a: T) -> None:
    assert rows_except(a[E], b[E]) == 0
    new = q("select * from a except all select * from b", a=a[E], b=b[E])
    assert len(new) == 20 and a[E].num_rows == b[E].num_rows + 20
    cols = a[E].column_names
    rows = [dict(zip(cols, r, strict=True)) for r in new]
    assert {r["occurred_at"] for r in rows} == {dt.datetime(2099, 12, 31, 12)}
    start = dt.datetime.combine(CI.start, dt.time())
    assert all(start <= r["received_at"] <= r["_loaded_at"] <= CI.extraction_time for r in rows)
    old_ids = set(b[E]["event_id"].to_pylist())
    old_sessions = set(b[E]["session_id"].to_pylist())
    assert not {r["event_id"] for r in rows} & old_ids
    assert not {r["session_id"] for r in rows} & old_sessions
    non_test = set(a[U].filter(pc.invert(a[U]["is_test_account"]))["user_id"].to_pylist())
    assert {r["user_id"] for r in rows} <= non_test


def c_referential_break(b: T, a: T) -> None:
    assert (
        a[ORD].slice(0, b[ORD].num_rows).equals(b[ORD]) and a[ORD].num_rows == b[ORD].num_rows + 5
    )
    orphans = (
        "select count(*) from o where user_id not in (select user_id from u) "
        "and status = 'placed' and order_id not in (select order_id from i) "
        "and order_id not in (select order_id from p)"
    )
    assert one(orphans, o=a[ORD], u=a[U], i=a[ITM], p=a["app/payments"]) == 5
    assert one(orphans, o=b[ORD], u=b[U], i=b[ITM], p=b["app/payments"]) == 0
    assert one("select count(distinct order_id) from o", o=a[ORD]) == a[ORD].num_rows


def c_sentinel_signup(b: T, a: T) -> None:
    same_except(b[U], a[U], "signed_up_at")
    sentinel = "select count(*) from u where signed_up_at = timestamp '1970-01-01 00:00:00'"
    assert one(sentinel, u=a[U]) == 3 and one(sentinel, u=b[U]) == 0
    assert rows_except(a[U], b[U]) == 3


def c_null_currency(b: T, a: T) -> None:
    same_except(b[ORD], a[ORD], "currency")
    assert nulls(a[ORD], "currency") - nulls(b[ORD], "currency") == round(0.01 * b[ORD].num_rows)


# name: (tables it changes, check(before, after))
CHECKS: dict[str, tuple[set[str], Callable[[T, T], None]]] = {
    "null_order_id": ({ORD}, c_null_order_id),
    "null_event_id": ({E}, c_null_event_id),
    "null_unit_price": ({ITM}, c_null_unit_price),
    "null_country": ({U}, c_null_country),
    "duplicate_events_spike": ({E}, c_duplicate_events_spike),
    "batch_loaded_twice": ({ORD, ITM}, c_batch_loaded_twice),
    "late_last_day": ({E}, c_late_last_day),
    "stale_source": ({E}, c_stale_source),
    "empty_refunds": ({"app/refunds"}, c_empty_refunds),
    "missing_day": ({E}, c_missing_day),
    "renamed_column": ({ORD}, c_renamed_column),
    "new_platform": ({E}, c_new_platform),
    "absurd_price": ({ITM}, c_absurd_price),
    "refund_wrong_sign": ({"app/refunds"}, c_refund_wrong_sign),
    "fx_gap": ({"finance/fx_rates"}, c_fx_gap),
    "missing_product_cost": ({"finance/product_costs"}, c_missing_product_cost),
    "test_flag_missing": ({U}, c_test_flag_missing),
    "filings_off": ({"finance/filings"}, c_filings_off),
    "active_users_off": ({"analytics/active_user_counts"}, c_active_users_off),
    "future_events": ({E}, c_future_events),
    "referential_break": ({ORD}, c_referential_break),
    "sentinel_signup": ({U}, c_sentinel_signup),
    "null_currency": ({ORD}, c_null_currency),
}


def test_registry_has_the_catalogue():
    assert len(DEFECTS) >= 20
    assert set(CHECKS) == set(DEFECTS)
    for name, d in DEFECTS.items():
        assert d.name == name and (d.apply is None) != (d.apply_events is None)
        assert d.description.endswith(".") and len(d.description) > 20


@pytest.mark.parametrize("name", list(DEFECTS))
def test_defect_does_what_it_says_and_nothing_else(name, before, after):
    changed, check = CHECKS[name]
    out = after(name)
    assert set(out) == set(before)
    assert {k for k in before if not before[k].equals(out[k])} == changed
    check(before, out)


@pytest.mark.parametrize("name", list(DEFECTS))
def test_check_fails_on_clean_data(name, before):
    with pytest.raises(AssertionError):
        CHECKS[name][1](before, before)


@pytest.mark.parametrize("name", list(DEFECTS))
def test_defect_keeps_the_contract_schema(name, after):
    relaxed = set(DEFECTS[name].schema_changes)
    for key, table in after(name).items():
        if key not in relaxed:
            assert table.schema.remove_metadata() == BY_KEY[key].schema, key


@pytest.mark.parametrize("name", list(DEFECTS))
def test_defect_is_deterministic(name, clean, after):
    again = run(clean, name)
    first = after(name)
    assert all(first[k].equals(again[k]) for k in first)


def test_all_defects_together(clean):
    """Every defect at once (registry order, the schema change last) still applies."""
    tables, chunks = clean
    every = resolve(list(DEFECTS))
    out = apply_tables(tables, every, CI)
    events = [apply_events(c, i, every, CI) for i, c in chunks]
    for key, table in [*out.items(), *((E, e) for e in events)]:
        if key != ORD:
            assert table.schema.remove_metadata() == BY_KEY[key].schema, key
    assert "currency_code" in out[ORD].column_names


def test_schema_changes_are_declared():
    assert defects.schema_changes(resolve(["renamed_column", "null_country"])) == {"app/orders"}
    assert defects.schema_changes(resolve(["null_country"])) == set()


# --- through the command line ------------------------------------------------------------------


@pytest.fixture
def only_generate(monkeypatch):
    monkeypatch.setattr(
        prometheus.cli, "COMMANDS", {"generate": prometheus.cli.COMMANDS["generate"]}
    )


def test_generate_with_defects_end_to_end(tmp_path, capsys, only_generate, before):
    out = tmp_path / "raw"
    args = ["--defect", "renamed_column", "--defect", "future_events", "--defect", "empty_refunds"]
    assert main(["generate", *CI_ARGS, "--out", str(out), *args]) == 0
    orders = pq.read_table(out / "app/orders.parquet")
    assert "currency_code" in orders.column_names and "currency" not in orders.column_names
    assert pq.read_table(out / "app/refunds.parquet").num_rows == 0
    events = pq.read_table(out / f"{EVENTS_KEY}.parquet")
    assert events.num_rows == before[E].num_rows + 20
    meta = json.loads((out / "_generation.json").read_text())
    assert meta["arguments"]["defects"] == ["renamed_column", "future_events", "empty_refunds"]
    assert meta["row_counts"]["app/refunds"] == 0


def test_unknown_defect_exits_2(tmp_path, capsys, only_generate):
    out = tmp_path / "raw"
    assert main(["generate", *CI_ARGS, "--out", str(out), "--defect", "no_such"]) == 2
    err = capsys.readouterr().err
    assert "unknown defect(s) no_such (known: null_order_id, null_event_id," in err
    assert not out.exists()
