"""Registry of data defects injected after the clean tables are built.

A defect is a named, ordered step ``apply(tables, rng, params) -> tables`` over the
in-memory tables keyed ``system/table`` (every table except events/events), plus
an optional ``apply_events(chunk, rng, params) -> chunk`` applied to each monthly
events chunk before it is written (events are streamed to bound memory).
Derived tables (ledger, filings, active_user_counts) are computed from the clean
data before defects run, as upstream would have reported them.

To add one: define the function(s) and register ``Defect(name, description,
apply, apply_events)`` in ``DEFECTS``; ``prometheus generate --defect NAME`` then
accepts it. Each defect gets its own generator keyed by (seed, "defect:" + name).
A defect that changes a table's columns lists the table in ``schema_changes`` so the
writer does not hold that file to the contract's schema.

Days: "the closed day" is ``end - 20 days`` (:func:`closed_day`); "the last day" is
``end``. Every defect keeps the contract's Arrow schema unless it is a schema change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from prometheus.errors import PrometheusError

from .columns import ids, labels, money, timestamps, uniform_us
from .params import US_PER_DAY, US_PER_HOUR, US_PER_MIN, Params, date_of_day, day_number
from .users import PLATFORMS, build_users

Tables = dict[str, pa.Table]
TablesFn = Callable[[Tables, np.random.Generator, Params], Tables]
EventsFn = Callable[[pa.Table, np.random.Generator, Params], pa.Table]


@dataclass(frozen=True)
class Defect:
    name: str
    description: str
    apply: TablesFn | None = None
    apply_events: EventsFn | None = None
    schema_changes: tuple[str, ...] = ()  # table keys whose columns this defect changes


# --- helpers ---------------------------------------------------------------------------
FUTURE_US = (day_number(dt.date(2099, 12, 31)) * US_PER_DAY) + 12 * US_PER_HOUR
ABSURD_PRICE_CENTS = 999_999_900
SMART_TV = "smart_tv"


def closed_day(p: Params) -> int:
    """The closed day a single-day defect hits: end - 20 days (never before the start)."""
    return max(p.end_day - 20, p.start_day)


def _us(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """timestamp/date column -> int64 numpy (microseconds or days); nulls not expected."""
    values: np.ndarray = pc.cast(col, pa.int64()).to_numpy()
    return values


def _days(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return _us(col) // US_PER_DAY


def _set(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, table.schema.field(i), values)


def _null_where(table: pa.Table, name: str, mask: np.ndarray) -> pa.Table:
    col = table[name]
    return _set(table, name, pc.if_else(pa.array(mask), pa.scalar(None, col.type), col))


def _mask(n: int, rows: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[rows] = True
    return m


def _pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    """k distinct entries of ``candidates`` (all of them if fewer), sorted."""
    k = min(int(k), len(candidates))
    return np.sort(rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]


def _share(n: int, share: float) -> int:
    """round(share * n), at least 1 when n > 0."""
    return max(1, int(np.floor(share * n + 0.5))) if n else 0


def _where(table: pa.Table, mask: np.ndarray) -> pa.Table:
    return table.filter(pa.array(mask))


def _sort_received(chunk: pa.Table) -> pa.Table:
    """Events are written in received_at order (stable)."""
    return chunk.take(pc.sort_indices(chunk, sort_keys=[("received_at", "ascending")]))


def _chunk_month(chunk: pa.Table) -> tuple[int, int] | None:
    """(year, month) of a monthly events chunk: its earliest occurred_at (sessions start
    inside their month)."""
    if chunk.num_rows == 0:
        return None
    first = pc.min(chunk["occurred_at"]).as_py()
    return None if first is None else (first.year, first.month)


def _month_of_day(day: int) -> tuple[int, int]:
    d = date_of_day(day)
    return d.year, d.month


def _events_with_ids(chunk: pa.Table, rng: np.random.Generator, share: float) -> np.ndarray:
    """Mask of rows whose event_id is among round(share * distinct ids) random ids, so every
    delivery of a chosen event is hit alike."""
    distinct = pc.unique(chunk["event_id"].combine_chunks()).drop_null()
    chosen = _pick(rng, np.arange(len(distinct)), _share(len(distinct), share))
    hit: np.ndarray = pc.is_in(
        chunk["event_id"], value_set=distinct.take(pa.array(chosen))
    ).to_numpy()
    return hit


def _order_index(items: pa.Table, orders: pa.Table) -> np.ndarray:
    """Row of each item's order in ``orders`` (-1 where the order id is missing)."""
    idx = pc.index_in(items["order_id"], value_set=orders["order_id"].combine_chunks())
    rows: np.ndarray = pc.fill_null(idx, -1).to_numpy()
    return rows


def _live_lines(tables: Tables, non_test: bool = False) -> np.ndarray:
    """Rows of order_items whose order exists and is not cancelled (and, optionally, is
    a non-test user's)."""
    orders, items = tables["app/orders"], tables["app/order_items"]
    live = pc.fill_null(pc.not_equal(orders["status"], "cancelled"), False).to_numpy()
    if non_test:
        users = tables["app/users"]
        test_ids = users["user_id"].filter(pc.fill_null(users["is_test_account"], False))
        live &= ~pc.is_in(orders["user_id"], value_set=test_ids.combine_chunks()).to_numpy()
    oi = _order_index(items, orders)
    return np.flatnonzero((oi >= 0) & live[np.maximum(oi, 0)])


def _non_test_users(tables: Tables) -> np.ndarray:
    flag = pc.fill_null(tables["app/users"]["is_test_account"], True).to_numpy()
    return np.flatnonzero(~flag)


# --- app -------------------------------------------------------------------------------
def null_order_id(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    orders = t["app/orders"]
    rows = _pick(rng, np.arange(orders.num_rows), 3)
    t["app/orders"] = _null_where(orders, "order_id", _mask(orders.num_rows, rows))
    return t


def null_unit_price(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    """3% of the lines of non-cancelled orders, stratified by order day (>= 1 per day)."""
    items, orders = t["app/order_items"], t["app/orders"]
    lines = _live_lines(t)
    day = _days(orders["ordered_at"])[_order_index(items, orders)[lines]]
    order = np.lexsort((rng.random(len(lines)), day))
    _, start, counts = np.unique(day[order], return_index=True, return_counts=True)
    rank = np.arange(len(lines)) - np.repeat(start, counts)
    k = np.maximum(1, np.floor(0.03 * counts + 0.5)).astype(np.int64)
    hit = lines[order][rank < np.repeat(k, counts)]
    t["app/order_items"] = _null_where(items, "unit_price", _mask(items.num_rows, hit))
    return t


def null_country(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    users = t["app/users"]
    has = np.flatnonzero(pc.is_valid(users["country"]).to_numpy())
    rows = _pick(rng, has, _share(users.num_rows, 0.05))
    t["app/users"] = _null_where(users, "country", _mask(users.num_rows, rows))
    return t


def batch_loaded_twice(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    orders, items = t["app/orders"], t["app/order_items"]
    day = closed_day(p)
    again = _where(orders, _days(orders["ordered_at"]) == day)
    hit = pc.is_in(items["order_id"], value_set=again["order_id"].combine_chunks())
    items_again = items.filter(hit)

    def later(tb: pa.Table) -> pa.Table:
        loaded = np.minimum(_us(tb["_loaded_at"]) + US_PER_DAY, p.extraction_us)
        return _set(tb, "_loaded_at", timestamps(loaded))

    t["app/orders"] = pa.concat_tables([orders, later(again)])
    t["app/order_items"] = pa.concat_tables([items, later(items_again)])
    return t


def empty_refunds(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    t["app/refunds"] = t["app/refunds"].slice(0, 0)
    return t


def renamed_column(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    orders = t["app/orders"]
    names = ["currency_code" if n == "currency" else n for n in orders.column_names]
    t["app/orders"] = orders.rename_columns(names)
    return t


def absurd_price(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    items = t["app/order_items"]
    rows = _pick(rng, _live_lines(t, non_test=True), 2)
    price = pc.if_else(
        pa.array(_mask(items.num_rows, rows)),
        money(np.array([ABSURD_PRICE_CENTS]))[0],
        items["unit_price"],
    )
    t["app/order_items"] = _set(items, "unit_price", price)
    return t


def refund_wrong_sign(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    refunds = t["app/refunds"]
    t["app/refunds"] = _set(refunds, "amount", pc.negate(pc.abs(refunds["amount"])))
    return t


def null_test_flag(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    users = t["app/users"]
    is_test = pc.fill_null(users["is_test_account"], False).to_numpy()
    t["app/users"] = _null_where(users, "is_test_account", is_test)
    return t


def referential_break(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    orders = t["app/orders"]
    n = 5
    at = np.sort(uniform_us(rng, np.full(n, p.end_day * US_PER_DAY), np.full(n, p.end_us)))
    loaded = np.minimum(at + rng.integers(5 * US_PER_MIN, US_PER_HOUR, n), p.extraction_us)
    numbers = [str(i) for i in range(1, n + 1)]
    new = pa.table(
        {
            "order_id": pa.array([f"o_missing_{i}" for i in numbers]),
            "user_id": pa.array([f"u_missing_{i}" for i in numbers]),
            "ordered_at": timestamps(at),
            "status": pa.array(["placed"] * n),
            "currency": pa.array(["USD"] * n),
            "shipping_cost": money(rng.integers(300, 1200, n)),
            "_loaded_at": timestamps(loaded),
        },
        schema=orders.schema,
    )
    t["app/orders"] = pa.concat_tables([orders, new])
    return t


def sentinel_signup(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    users = t["app/users"]
    rows = _pick(rng, _non_test_users(t), 3)
    signed = pc.if_else(
        pa.array(_mask(users.num_rows, rows)), timestamps(np.array([0]))[0], users["signed_up_at"]
    )
    t["app/users"] = _set(users, "signed_up_at", signed)
    return t


def null_currency(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    orders = t["app/orders"]
    rows = _pick(rng, np.arange(orders.num_rows), _share(orders.num_rows, 0.01))
    t["app/orders"] = _null_where(orders, "currency", _mask(orders.num_rows, rows))
    return t


# --- finance / analytics -----------------------------------------------------------------
def fx_gap(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    """EUR rates missing on the latest 3 consecutive days <= the closed day that all have
    non-cancelled EUR orders."""
    orders, fx = t["app/orders"], t["finance/fx_rates"]
    eur = pc.fill_null(
        pc.and_(pc.equal(orders["currency"], "EUR"), pc.not_equal(orders["status"], "cancelled")),
        False,
    ).to_numpy()
    days = np.unique(_days(orders["ordered_at"])[eur])
    ok = np.isin(days - 1, days) & np.isin(days - 2, days) & (days <= closed_day(p))
    if not ok.any():
        return t
    last = int(days[ok].max())
    rate_day = pc.cast(fx["rate_date"], pa.int32()).to_numpy()
    gone = (rate_day >= last - 2) & (rate_day <= last) & (fx["currency"].to_numpy() == "EUR")
    t["finance/fx_rates"] = _where(fx, ~gone)
    return t


def missing_product_cost(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    counts = pc.value_counts(t["app/order_items"]["product_id"].combine_chunks())
    by = pa.table({"product_id": counts.field("values"), "n": counts.field("counts")})
    top = by.sort_by([("n", "descending"), ("product_id", "ascending")]).slice(0, 3)
    costs = t["finance/product_costs"]
    t["finance/product_costs"] = costs.filter(
        pc.invert(pc.is_in(costs["product_id"], value_set=top["product_id"].combine_chunks()))
    )
    return t


def filings_off(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    """The latest filed quarter reported 2% high (every metric, rounded to cents)."""
    filings = t["finance/filings"]
    if filings.num_rows == 0:
        return t
    last = pc.max(filings["filed_on"])
    hit = pc.equal(filings["filed_on"], last)
    off = pc.multiply(filings["reported_usd"], pa.scalar(Decimal("1.02"), pa.decimal128(3, 2)))
    off = pc.cast(pc.round(off, 2, round_mode="half_towards_infinity"), pa.decimal128(18, 2))
    t["finance/filings"] = _set(
        filings, "reported_usd", pc.if_else(hit, off, filings["reported_usd"])
    )
    return t


def active_users_off(t: Tables, rng: np.random.Generator, p: Params) -> Tables:
    """10 closed days (<= end - 7 days) where round(0.97 * n) != n get 0.97 * n."""
    auc = t["analytics/active_user_counts"]
    n = auc["active_users"].to_numpy()
    low = np.floor(0.97 * n + 0.5).astype(np.int64)
    day = pc.cast(auc["activity_date"], pa.int32()).to_numpy()
    rows = _pick(rng, np.flatnonzero((day <= p.end_day - 7) & (low != n)), 10)
    t["analytics/active_user_counts"] = _set(
        auc, "active_users", pa.array(np.where(_mask(len(n), rows), low, n), pa.int64())
    )
    return t


# --- events (one monthly chunk at a time) ------------------------------------------------
def null_event_id(chunk: pa.Table, rng: np.random.Generator, p: Params) -> pa.Table:
    """0.5% of the events of the closed day's month (all deliveries of each)."""
    if _chunk_month(chunk) != _month_of_day(closed_day(p)):
        return chunk
    return _null_where(chunk, "event_id", _events_with_ids(chunk, rng, 0.005))


def duplicate_events_spike(chunk: pa.Table, rng: np.random.Generator, p: Params) -> pa.Table:
    rows = _pick(rng, np.arange(chunk.num_rows), _share(chunk.num_rows, 0.03))
    again = chunk.take(pa.array(rows, pa.int64()))
    shift = rng.integers(US_PER_MIN, 10 * US_PER_MIN, len(rows))
    received = _us(again["received_at"]) + shift
    loaded = np.minimum(_us(again["_loaded_at"]) + shift, p.extraction_us)
    again = _set(again, "received_at", timestamps(received))
    again = _set(again, "_loaded_at", timestamps(loaded))
    again = _where(again, (received <= p.extraction_us) & (loaded > received))
    return _sort_received(pa.concat_tables([chunk, again]))


def late_last_day(chunk: pa.Table, rng: np.random.Generator, p: Params) -> pa.Table:
    """Half of the events that occurred on the end day (every delivery of each) are gone."""
    last = _days(chunk["occurred_at"]) == p.end_day
    if not last.any():
        return chunk
    distinct = pc.unique(chunk["event_id"].filter(pa.array(last)).combine_chunks()).drop_null()
    chosen = distinct.take(
        pa.array(_pick(rng, np.arange(len(distinct)), _share(len(distinct), 0.5)))
    )
    late = last & pc.is_in(chunk["event_id"], value_set=chosen).to_numpy()
    return _where(chunk, ~late)


def stale_source(chunk: pa.Table, rng: np.random.Generator, p: Params) -> pa.Table:
    return _where(chunk, _us(chunk["received_at"]) < (p.end_day - 2) * US_PER_DAY)


def missing_day(chunk: pa.Table, rng: np.random.Generator, p: Params) -> pa.Table:
    return _where(chunk, _days(chunk["occurred_at"]) != closed_day(p))


def new_platform(chunk: pa.Table, rng: np.random.Generator, p: Params) -> pa.Table:
    hit = pa.array(_events_with_ids(chunk, rng, 0.01))
    return _set(chunk, "platform", pc.if_else(hit, SMART_TV, chunk["platform"]))


def future_events(chunk: pa.Table, rng: np.random.Generator, p: Params) -> pa.Table:
    """In the end month's chunk: 10 new sessions (session_start + session_end) of existing
    non-test, non-deleted users, occurred 2099-12-31 12:00, received on the end day."""
    if _chunk_month(chunk) != _month_of_day(p.end_day):
        return chunk
    users = build_users(p)  # deterministic: the same users the pipeline built
    alive = np.flatnonzero(~users.is_test & (users.bound_us >= p.end_us))
    n_sess = 10
    who = _pick(rng, alive, n_sess)
    n_sess = len(who)
    sess = np.repeat(np.arange(n_sess), 2)
    n = len(sess)
    received = np.sort(uniform_us(rng, np.full(n, p.end_day * US_PER_DAY), np.full(n, p.end_us)))
    loaded = np.minimum(received + rng.integers(US_PER_MIN, US_PER_HOUR, n), p.extraction_us)
    new = pa.table(
        {
            "event_id": ids("e_future_", np.arange(1, n + 1), 8),
            "user_id": users.user_id.take(pa.array(who[sess])),
            "session_id": ids("s_future_", sess + 1, 7),
            "event_name": labels(("session_start", "session_end"), np.tile([0, 1], n_sess)),
            "occurred_at": timestamps(np.full(n, FUTURE_US)),
            "received_at": timestamps(received),
            "platform": labels(PLATFORMS, users.platform[who[sess]]),
            "_loaded_at": timestamps(loaded),
        },
        schema=chunk.schema,
    )
    return _sort_received(pa.concat_tables([chunk, new]))


# --- registry ----------------------------------------------------------------------------
_ALL = (
    Defect(
        "null_order_id",
        "3 orders have a null order_id (their items, payments and refunds "
        "still point at the old id).",
        apply=null_order_id,
    ),
    Defect(
        "null_event_id",
        "~0.5% of the events of the closed day's month have a null event_id.",
        apply_events=null_event_id,
    ),
    Defect(
        "null_unit_price",
        "3% of the lines of non-cancelled orders (at least one a day) have a null unit_price.",
        apply=null_unit_price,
    ),
    Defect("null_country", "5% of users have a null country.", apply=null_country),
    Defect(
        "duplicate_events_spike",
        "An extra 3% of events are redelivered (same event_id and "
        "content, received and loaded 1-10 minutes later).",
        apply_events=duplicate_events_spike,
    ),
    Defect(
        "batch_loaded_twice",
        "The orders and order_items of orders placed on the closed day "
        "were loaded twice (same keys, _loaded_at one day later).",
        apply=batch_loaded_twice,
    ),
    Defect(
        "late_last_day",
        "Half of the events that occurred on the last day are missing "
        "(they arrive after extraction).",
        apply_events=late_last_day,
    ),
    Defect(
        "stale_source",
        "The events source stopped: nothing was received in the last 3 days of the range.",
        apply_events=stale_source,
    ),
    Defect("empty_refunds", "app/refunds has zero rows.", apply=empty_refunds),
    Defect(
        "missing_day",
        "No events at all occurred on the closed day (end - 20 days).",
        apply_events=missing_day,
    ),
    Defect(
        "new_platform",
        "1% of events have platform 'smart_tv', a value outside the contract.",
        apply_events=new_platform,
    ),
    Defect(
        "absurd_price",
        "2 order lines of non-cancelled, non-test orders have unit_price 9999999.00.",
        apply=absurd_price,
    ),
    Defect("refund_wrong_sign", "Every refund amount is negative.", apply=refund_wrong_sign),
    Defect(
        "fx_gap",
        "EUR fx rates are missing on 3 consecutive closed days that have EUR orders.",
        apply=fx_gap,
    ),
    Defect(
        "missing_product_cost",
        "The 3 products with the most order lines have no product_costs rows.",
        apply=missing_product_cost,
    ),
    Defect(
        "test_flag_missing",
        "is_test_account is null for every test account.",
        apply=null_test_flag,
    ),
    Defect(
        "filings_off",
        "Every metric of the latest filed quarter is reported 2% high.",
        apply=filings_off,
    ),
    Defect(
        "active_users_off",
        "The official active_users is 3% low on 10 closed days.",
        apply=active_users_off,
    ),
    Defect(
        "future_events",
        "20 new events of existing users occurred on 2099-12-31 12:00 (received within the range).",
        apply_events=future_events,
    ),
    Defect(
        "referential_break",
        "5 new placed orders (no items or payments) belong to user_ids that do not exist.",
        apply=referential_break,
    ),
    Defect(
        "sentinel_signup",
        "3 users signed up at the sentinel 1970-01-01 00:00:00.",
        apply=sentinel_signup,
    ),
    Defect("null_currency", "1% of orders have a null currency.", apply=null_currency),
    # Last: the other defects read the contract's column names.
    Defect(
        "renamed_column",
        "app/orders column currency is renamed currency_code (a schema change).",
        apply=renamed_column,
        schema_changes=("app/orders",),
    ),
)
# Ordered: defects run in registry order whatever the order on the command line.
DEFECTS: dict[str, Defect] = {d.name: d for d in _ALL}


def schema_changes(defects: Sequence[Defect]) -> set[str]:
    """Table keys whose columns the given defects change (written without the contract check)."""
    return {key for d in defects for key in d.schema_changes}


class UnknownDefect(PrometheusError, ValueError):
    pass


def resolve(names: Sequence[str], registry: Mapping[str, Defect] | None = None) -> list[Defect]:
    """The requested defects in registry order; unknown names raise :class:`UnknownDefect`."""
    reg = DEFECTS if registry is None else registry
    unknown = sorted(set(names) - set(reg))
    if unknown:
        known = ", ".join(reg) or "none registered"
        raise UnknownDefect(f"unknown defect(s) {', '.join(unknown)} (known: {known})")
    wanted = set(names)
    return [d for name, d in reg.items() if name in wanted]


def apply_tables(tables: Tables, defects: Sequence[Defect], p: Params) -> Tables:
    for d in defects:
        if d.apply is not None:
            tables = d.apply(dict(tables), p.rng("defect:" + d.name), p)
    return tables


def apply_events(
    chunk: pa.Table, chunk_index: int, defects: Sequence[Defect], p: Params
) -> pa.Table:
    for d in defects:
        if d.apply_events is not None:
            chunk = d.apply_events(chunk, p.rng("defect-events:" + d.name, chunk_index), p)
    return chunk
