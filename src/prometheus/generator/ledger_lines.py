"""The ledger's booked order lines, joined in numpy instead of DuckDB (the fast path).

The ledger's SQL (ledger.py) joins 25M order lines to their orders, payments, refunds,
fx rates and costs on VARCHAR ids at scale 10: minutes of hashing and GBs of memory.
Here the same joins are done with integer arrays, exactly: ids of one fixed form
(``o_00000042``: a prefix and a fixed number of digits) map one-to-one to their numbers,
and money columns are integers of cents. The result is the per-line inputs of the
ledger's rounding rules, which DuckDB then applies with the same SQL expressions
(ledger.LINE_AMOUNTS_SQL), chunk by chunk.

Only inputs whose join semantics are plain are taken this way: unique order, user and
fx keys, no null ids or money, no overlapping cost periods, the contract's column
types. :func:`booked_lines` returns None otherwise and the ledger falls back to its
all-SQL path (ledger.LINES_SQL), which gives the same figures on any input (a test runs
both).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .columns import arrow, dates, decimals
from .params import US_PER_DAY

FAR_FUTURE_DAY = 2_932_896  # 9999-12-31, valid_to of an open cost period
CHUNK_LINES = 2_000_000

MONEY = pa.decimal128(18, 2)
TYPES = {
    ("app/users", "user_id"): pa.string(),
    ("app/users", "is_test_account"): pa.bool_(),
    ("app/orders", "order_id"): pa.string(),
    ("app/orders", "user_id"): pa.string(),
    ("app/orders", "ordered_at"): pa.timestamp("us"),
    ("app/orders", "status"): pa.string(),
    ("app/orders", "currency"): pa.string(),
    ("app/orders", "shipping_cost"): MONEY,
    ("app/order_items", "order_id"): pa.string(),
    ("app/order_items", "product_id"): pa.string(),
    ("app/order_items", "quantity"): pa.int32(),
    ("app/order_items", "unit_price"): MONEY,
    ("app/order_items", "discount_amount"): MONEY,
    ("app/payments", "order_id"): pa.string(),
    ("app/payments", "status"): pa.string(),
    ("app/payments", "processor_fee"): MONEY,
    ("app/refunds", "order_id"): pa.string(),
    ("app/refunds", "refunded_at"): pa.timestamp("us"),
    ("app/refunds", "amount"): MONEY,
    ("finance/fx_rates", "rate_date"): pa.date32(),
    ("finance/fx_rates", "currency"): pa.string(),
    ("finance/fx_rates", "usd_per_unit"): pa.decimal128(18, 8),
    ("finance/product_costs", "product_id"): pa.string(),
    ("finance/product_costs", "valid_from"): pa.date32(),
    ("finance/product_costs", "valid_to"): pa.date32(),
    ("finance/product_costs", "unit_cost_usd"): pa.decimal128(18, 4),
}
# columns that may hold nulls (their SQL meaning is reproduced below)
NULLABLE = {
    ("app/users", "is_test_account"),  # `not null` is not true: the user's orders are not booked
    ("app/orders", "ordered_at"),  # no fx row for a null day: the order is not booked
    ("app/orders", "status"),  # `null <> 'cancelled'` is not true: not booked
    ("app/orders", "currency"),  # no fx row: not booked
    ("app/payments", "status"),  # not 'captured'
    ("app/refunds", "refunded_at"),  # no fx row: not booked
    ("finance/fx_rates", "rate_date"),  # matches nothing
    ("finance/fx_rates", "currency"),  # matches nothing
    ("finance/product_costs", "valid_from"),  # matches nothing
    ("finance/product_costs", "valid_to"),  # open period
}


class NotPlain(Exception):
    """The input needs the general SQL path."""


def _array(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    return col


def _valid(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.is_valid(col).to_numpy(zero_copy_only=False), dtype=bool)


def _ints(col: pa.ChunkedArray | pa.Array, dtype: type = np.int64) -> np.ndarray:
    """Integers of a fixed-width column without nulls (timestamps as microseconds, dates as
    days, decimals as units of their scale)."""
    a = _array(col)
    if pa.types.is_decimal(a.type):
        raw = np.frombuffer(a.buffers()[1], dtype="<i8")[2 * a.offset : 2 * (a.offset + len(a))]
        low, high = raw[0::2], raw[1::2]
        if not np.array_equal(high, low >> 63):
            raise NotPlain("a decimal beyond 64 bits")
        return low.astype(dtype)
    width = 4 if a.type in (pa.date32(), pa.int32()) else 8
    raw = np.frombuffer(a.buffers()[1], dtype=f"<i{width}")[a.offset : a.offset + len(a)]
    return raw.astype(dtype)


def _days(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Day numbers of a timestamp (``cast(ts as date)``) or date column; nulls -> -2**62."""
    valid = _valid(col)
    a = _array(col)
    v = _ints(a)
    out = v // US_PER_DAY if pa.types.is_timestamp(a.type) else v
    return np.where(valid, out, -(2**62))


@dataclass(frozen=True)
class IdForm:
    prefix: bytes
    digits: int


def _id_numbers(col: pa.ChunkedArray | pa.Array) -> tuple[IdForm | None, np.ndarray]:
    """Every id as prefix + a fixed number of digits -> (the form, the numbers); the form
    is None for no rows. Raises NotPlain for anything else."""
    a = _array(col)
    n = len(a)
    if n == 0:
        return None, np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(a.buffers()[1], dtype=np.int32)[a.offset : a.offset + n + 1]
    size = int(offsets[1] - offsets[0])
    if not np.all(np.diff(offsets) == size) or size == 0:
        raise NotPlain("ids of different lengths")
    data = np.frombuffer(a.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    rows = data.reshape(n, size)
    first = rows[0]
    k = size
    while k > 0 and 48 <= first[k - 1] <= 57:
        k -= 1
    digits = size - k
    if not 1 <= digits <= 18:
        raise NotPlain("ids without a number")
    if k and not np.all(rows[:, :k] == first[:k]):
        raise NotPlain("ids of different prefixes")
    d = rows[:, k:] - np.uint8(48)  # digits 0-9; anything else wraps around above 9
    if d.max() > 9:
        raise NotPlain("ids with a non-digit")
    numbers = np.zeros(n, dtype=np.int64)
    for j in range(digits):
        numbers *= 10
        numbers += d[:, j]
    return IdForm(first[:k].tobytes(), digits), numbers


def _same_form(*forms: IdForm | None) -> None:
    known = {f for f in forms if f is not None}
    if len(known) > 1:
        raise NotPlain("ids of different forms")


class Index:
    """Row of each key among unique integer keys (-1 where absent)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.n = len(keys)
        self.dense = self.n == 0 or (keys.min() >= 0 and keys.max() < 4 * self.n + 65_536)
        if self.dense:
            self.pos = np.full(int(keys.max()) + 1 if self.n else 1, -1, dtype=np.int64)
            self.pos[keys] = np.arange(self.n)
            if self.n and not np.array_equal(self.pos[keys], np.arange(self.n)):
                raise NotPlain("duplicate keys")
        else:
            self.order = np.argsort(keys, kind="stable")
            self.sorted = keys[self.order]
            if np.any(self.sorted[1:] == self.sorted[:-1]):
                raise NotPlain("duplicate keys")

    def rows(self, query: np.ndarray) -> np.ndarray:
        out = np.full(len(query), -1, dtype=np.int64)
        if not self.n:
            return out
        if self.dense:
            ok = (query >= 0) & (query < len(self.pos))
            out[ok] = self.pos[query[ok]]
            return out
        i = np.minimum(np.searchsorted(self.sorted, query), self.n - 1)
        hit = self.sorted[i] == query
        out[hit] = self.order[i[hit]]
        return out


def _codes(col: pa.ChunkedArray | pa.Array, values: pa.Array) -> np.ndarray:
    """Index of each value in ``values`` (-1 where null or absent)."""
    idx = pc.index_in(col, value_set=values)
    return np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _group_sum(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact int64 sums of ``values`` per group 0..n-1."""
    if len(values) and np.abs(values).max() * len(values) >= 2**53:
        raise NotPlain("sums beyond exact float64 integers")
    return np.bincount(group, weights=values, minlength=n).astype(np.int64)


@dataclass
class Costs:
    """Cost periods sorted by (product, valid_from), none overlapping; lookup by key
    ``product number * SPAN + day``."""

    key: np.ndarray  # of each period's start
    product: np.ndarray
    valid_to: np.ndarray  # day, FAR_FUTURE_DAY when open
    cost: np.ndarray  # unit_cost_usd, 1e-4

    def lookup(self, product: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cost, found) of each (product number, day)."""
        at = np.searchsorted(self.key, product * SPAN + day, side="right") - 1
        i = np.maximum(at, 0)
        found = (at >= 0) & (self.product[i] == product) & (day < self.valid_to[i])
        return np.where(found, self.cost[i], 0), found


SPAN = FAR_FUTURE_DAY + 1  # days 0..9999-12-31


@dataclass
class BookedLines:
    """The booked lines and their orders: the inputs of the ledger's per-line rules, as
    integers in the units of the SQL types (cents; 1e-8 for rates, 1e-4 for costs).
    Per-order values are gathered per chunk of lines (small arrays, bounded memory)."""

    # per booked line
    item: np.ndarray  # row in order_items
    order: np.ndarray  # row in orders
    line_net: np.ndarray  # quantity * unit_price - discount_amount
    # per order item (all rows of order_items)
    quantity: np.ndarray
    product: np.ndarray  # product number
    # per order (all rows of orders; meaningful for those with booked lines)
    od: np.ndarray  # order day
    rate: np.ndarray  # usd_per_unit of (od, currency)
    shipping: np.ndarray
    order_net: np.ndarray  # the sum of its lines' line_net
    line_count: np.ndarray
    fee: np.ndarray  # the sum of its captured payments' processor_fee
    has_fee: np.ndarray  # it has a captured payment
    costs: Costs
    # per (refund, booked line of its order)
    r_day: np.ndarray
    r_amount: np.ndarray
    r_rate: np.ndarray  # usd_per_unit of (refund day, the order's currency)
    r_line: np.ndarray  # index into the booked lines

    def line_chunks(self, size: int = CHUNK_LINES) -> Iterator[pa.Table]:
        """The lines as Arrow tables with the SQL path's column types."""
        for lo in range(0, len(self.order), size):
            o = self.order[lo : lo + size]
            i = self.item[lo : lo + size]
            od = self.od[o]
            cost, has_cost = self.costs.lookup(self.product[i], od)
            has_fee = self.has_fee[o]
            yield pa.table(
                {
                    "od": dates(od),
                    "line_net_local": decimals(self.line_net[lo : lo + size], 18, 2),
                    "rate": decimals(self.rate[o], 18, 8),
                    "quantity": arrow(self.quantity[i].astype(np.int32)),
                    "unit_cost_usd": decimals(cost, 18, 4, ~has_cost),
                    "shipping_cost": decimals(self.shipping[o], 18, 2),
                    "order_net_local": decimals(self.order_net[o], 38, 2),
                    "line_count": arrow(self.line_count[o]),
                    "fee": decimals(self.fee[o], 38, 2, ~has_fee),
                }
            )

    def refund_lines(self) -> pa.Table:
        o = self.order[self.r_line]
        return pa.table(
            {
                "rd": dates(self.r_day),
                "amount": decimals(self.r_amount, 18, 2),
                "rate": decimals(self.r_rate, 18, 8),
                "line_net_local": decimals(self.line_net[self.r_line], 18, 2),
                "order_net_local": decimals(self.order_net[o], 38, 2),
                "line_count": arrow(self.line_count[o]),
            }
        )


def booked_lines(tables: dict[str, pa.Table]) -> BookedLines | None:
    """The booked lines of plain input, else None (see the module docstring)."""
    try:
        return _booked_lines(tables)
    except NotPlain:
        return None


def _check(tables: dict[str, pa.Table]) -> None:
    for (key, name), typ in TYPES.items():
        t = tables[key]
        if name not in t.column_names or t.schema.field(name).type != typ:
            raise NotPlain(f"{key}.{name}: not the contract's column")
        if (key, name) not in NULLABLE and t[name].null_count:
            raise NotPlain(f"{key}.{name}: nulls")


def _booked_lines(tables: dict[str, pa.Table]) -> BookedLines:
    _check(tables)
    users, orders = tables["app/users"], tables["app/orders"]
    items, payments = tables["app/order_items"], tables["app/payments"]
    refunds, fx = tables["app/refunds"], tables["finance/fx_rates"]
    costs = tables["finance/product_costs"]

    # --- orders in scope: not cancelled, of an existing non-test user --------------------
    u_form, u_num = _id_numbers(users["user_id"])
    ou_form, ou_num = _id_numbers(orders["user_id"])
    _same_form(u_form, ou_form)
    user_row = Index(u_num).rows(ou_num)
    non_test = np.asarray(
        pc.fill_null(pc.invert(users["is_test_account"]), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    live = np.asarray(
        pc.fill_null(pc.not_equal(orders["status"], "cancelled"), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    scoped = live & (user_row >= 0) & non_test[np.maximum(user_row, 0)]

    # --- fx: the rate of each (day, currency) ------------------------------------------
    currencies = pc.unique(fx["currency"]).drop_null()
    n_cur = max(len(currencies), 1)
    fx_day = _days(fx["rate_date"])
    fx_cur = _codes(fx["currency"], currencies)
    fx_ok = (fx_day > -(2**62)) & (fx_cur >= 0)
    fx_rate = _ints(fx["usd_per_unit"])
    day0 = int(fx_day[fx_ok].min()) if fx_ok.any() else 0
    fx_key = np.where(fx_ok, (fx_day - day0) * n_cur + fx_cur, -1)
    fx_index = Index(fx_key[fx_ok])
    fx_rows = np.flatnonzero(fx_ok)

    def rate_of(day: np.ndarray, cur: np.ndarray) -> np.ndarray:
        """Row in fx of each (day, currency code), -1 where none."""
        ok = (day >= day0) & (cur >= 0)
        key = np.where(ok, (day - day0) * n_cur + cur, -1)
        hit = fx_index.rows(key)
        return np.where(ok & (hit >= 0), fx_rows[np.maximum(hit, 0)], -1)

    od = _days(orders["ordered_at"])
    o_cur = _codes(orders["currency"], currencies)
    o_fx = rate_of(od, o_cur)
    booked_order = scoped & (o_fx >= 0)  # all lines of an order share its day and currency

    # --- booked lines; per-order totals --------------------------------------------------
    o_form, o_num = _id_numbers(orders["order_id"])
    io_form, io_num = _id_numbers(items["order_id"])
    p_form, p_num = _id_numbers(payments["order_id"])
    r_form, r_num = _id_numbers(refunds["order_id"])
    _same_form(o_form, io_form, p_form, r_form)
    order_index = Index(o_num)
    n_orders = len(o_num)
    item_order = order_index.rows(io_num)
    del io_num
    ok = item_order >= 0
    ok[ok] = booked_order[item_order[ok]]
    line_item = np.flatnonzero(ok)
    line_order = item_order[line_item]
    del item_order, ok
    qty = _ints(items["quantity"], np.int32)
    line_net = qty[line_item].astype(np.int64) * _ints(items["unit_price"])[line_item]
    line_net -= _ints(items["discount_amount"])[line_item]
    order_net = _group_sum(line_order, line_net, n_orders)
    line_count = np.bincount(line_order, minlength=n_orders).astype(np.int64)

    # --- captured fees per order ------------------------------------------------------------
    pay_order = order_index.rows(p_num)
    captured = np.asarray(
        pc.fill_null(pc.equal(payments["status"], "captured"), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    cap = captured & (pay_order >= 0)
    fee = _group_sum(pay_order[cap], _ints(payments["processor_fee"])[cap], n_orders)
    has_fee = np.bincount(pay_order[cap], minlength=n_orders) > 0

    # --- cost periods ----------------------------------------------------------------------
    c_form, c_num = _id_numbers(costs["product_id"])
    ip_form, ip_num = _id_numbers(items["product_id"])
    _same_form(c_form, ip_form)
    c_from = _days(costs["valid_from"])
    c_to = np.where(_valid(costs["valid_to"]), _days(costs["valid_to"]), FAR_FUTURE_DAY)
    c_rows = np.flatnonzero(c_from > -(2**62))
    c_order = c_rows[np.lexsort((c_from[c_rows], c_num[c_rows]))]
    same = c_num[c_order][1:] == c_num[c_order][:-1]
    if np.any(same & (c_to[c_order][:-1] > c_from[c_order][1:])):
        raise NotPlain("overlapping cost periods")
    line_days = od[booked_order]
    if len(line_days) and (line_days.min() < 0 or line_days.max() >= SPAN):
        raise NotPlain("order days before 1970 or after 9999")
    if (c_from[c_rows] < 0).any() or max(c_num.max(initial=0), ip_num.max(initial=0)) >= (
        2**62 // SPAN
    ):
        raise NotPlain("cost periods before 1970 or product numbers too large")
    cost_periods = Costs(
        key=c_num[c_order] * SPAN + c_from[c_order],
        product=c_num[c_order],
        valid_to=c_to[c_order],
        cost=_ints(costs["unit_cost_usd"])[c_order],
    )

    # --- refunds: one row per (refund, booked line of its order) -------------------------
    ref_order = order_index.rows(r_num)
    ref_ok = ref_order >= 0
    ref_ok[ref_ok] = booked_order[ref_order[ref_ok]]
    ref_day = _days(refunds["refunded_at"])
    ref_fx = rate_of(ref_day, np.where(ref_ok, o_cur[np.maximum(ref_order, 0)], -1))
    ref_ok &= ref_fx >= 0
    ref_idx = np.flatnonzero(ref_ok)
    refunded = np.zeros(n_orders, dtype=bool)
    refunded[ref_order[ref_idx]] = True
    sub = np.flatnonzero(refunded[line_order])  # the lines of refunded orders, by order
    sub = sub[np.argsort(line_order[sub], kind="stable")]
    first = np.searchsorted(line_order[sub], ref_order[ref_idx])
    k = line_count[ref_order[ref_idx]]
    r_of = np.repeat(np.arange(len(ref_idx)), k)
    pos = np.arange(len(r_of)) - np.repeat(np.cumsum(k) - k, k)
    r_line = sub[np.repeat(first, k) + pos]
    r_idx = ref_idx[r_of]

    return BookedLines(
        item=line_item,
        order=line_order,
        line_net=line_net,
        quantity=qty,
        product=ip_num,
        od=od,
        rate=fx_rate[np.maximum(o_fx, 0)],
        shipping=_ints(orders["shipping_cost"]),
        order_net=order_net,
        line_count=line_count,
        fee=fee,
        has_fee=has_fee,
        costs=cost_periods,
        r_day=ref_day[r_idx],
        r_amount=_ints(refunds["amount"])[r_idx],
        r_rate=fx_rate[ref_fx[r_idx]],
        r_line=r_line,
    )
