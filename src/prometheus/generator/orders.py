"""app/orders, app/order_items, app/payments, app/refunds.

Orders fall uniformly inside each user's life [signup, deletion or end] with a
weekend lift; ~5% are cancelled. Each non-cancelled order has one captured
payment (amount = net lines + shipping, fee = 2.9% + 0.30 rounded half up to
cents) and ~3% a failed attempt before it; cancelled orders have at most a failed
attempt. ~4% of non-cancelled orders get one refund 1-60 days later (full or
partial, never above the order's net line total); a refund that would fall after
the range end or the user's deletion does not exist (yet), so the last weeks carry
fewer refunds, never more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .catalog import Catalog
from .columns import (
    KEEP_RATE,
    arrow,
    ids,
    labels,
    money,
    timestamps,
    uniform_us,
    weekday_keep,
)
from .params import US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_SEC, Params
from .users import CURRENCIES, Users

ORDERS_AT_SCALE_1 = 1_000_000
CANCELLED_SHARE = 0.05
FAILED_BEFORE_CAPTURE = 0.03
FAILED_ON_CANCELLED = 0.3
REFUND_SHARE = 0.04
FULL_REFUND_SHARE = 0.55
DISCOUNTED_LINES = 0.25
ORDER_MARGIN_US = 15 * US_PER_MIN  # orders end this long before the user's bound (payments fit)
STATUSES = ("placed", "shipped", "delivered", "cancelled")
REFUND_REASONS = ("damaged", "not_as_described", "late_delivery", "changed_mind", "other")
NULL_REASON = 0.10


@dataclass
class OrderTables:
    orders: pa.Table
    order_items: pa.Table
    payments: pa.Table
    refunds: pa.Table


def _loaded(rng: np.random.Generator, at: np.ndarray, p: Params) -> np.ndarray:
    loaded: np.ndarray = np.minimum(
        uniform_us(rng, at + 5 * US_PER_MIN, at + 6 * US_PER_HOUR), p.extraction_us
    )
    return loaded


def build_orders(p: Params, users: Users, catalog: Catalog) -> OrderTables:
    rng = p.rng("app/orders")
    # --- orders -----------------------------------------------------------------------
    hi = users.bound_us - ORDER_MARGIN_US
    room = np.maximum(hi - users.signup_us, 0) / US_PER_DAY
    weight = users.buying * room
    lam = weight * (p.count(ORDERS_AT_SCALE_1) / max(weight.sum(), 1e-9)) / KEEP_RATE
    per_user = rng.poisson(lam)
    uidx = np.repeat(np.arange(len(per_user)), per_user)
    at = uniform_us(rng, users.signup_us[uidx], hi[uidx])
    keep = weekday_keep(rng, at)
    uidx, at = uidx[keep], at[keep]
    order = np.argsort(at, kind="stable")
    uidx, at = uidx[order], at[order]
    n = len(at)
    cur = users.currency[uidx]
    cancelled = rng.random(n) < CANCELLED_SHARE
    age_days = (p.end_us - at) / US_PER_DAY + rng.normal(0, 1.0, n)
    status = np.where(age_days < 2, 0, np.where(age_days < 7, 1, 2))
    status[cancelled] = 3
    shipping_usd = rng.uniform(3.0, 12.0, n)
    levels = np.array([1.0, 1.08, 1.27, 0.74, 0.66])
    shipping = np.round(shipping_usd / levels[cur] * 100).astype(np.int64)
    order_num = np.arange(1, n + 1)
    order_id = ids("o_", order_num, 8)
    orders = pa.table(
        {
            "order_id": order_id,
            "user_id": users.user_id.take(arrow(uidx)),
            "ordered_at": timestamps(at),
            "status": labels(STATUSES, status),
            "currency": labels(CURRENCIES, cur),
            "shipping_cost": money(shipping),
            "_loaded_at": timestamps(_loaded(rng, at, p)),
        }
    )
    order_loaded = orders.column("_loaded_at").combine_chunks()

    # --- order items (distinct products per order) ---------------------------------------
    n_prod = len(catalog.popularity)
    lines = np.minimum(1 + rng.poisson(1.5, n), 8)
    oidx = np.repeat(np.arange(n), lines)
    first = np.cumsum(lines) - lines
    pos = np.arange(len(oidx)) - np.repeat(first, lines)
    p0 = rng.choice(n_prod, size=n, p=catalog.popularity)
    step = rng.integers(1, max(2, (n_prod - 1) // 7 + 1), n)
    prod = (p0[oidx] + pos * step[oidx]) % n_prod
    del first, pos, p0, step  # line-sized arrays: free them as soon as they are used
    qty = np.minimum(1 + rng.poisson(0.35, len(oidx)), 10)
    price = catalog.price_cents[prod, cur[oidx]]
    gross = qty * price
    disc = np.where(
        rng.random(len(oidx)) < DISCOUNTED_LINES,
        np.floor(gross * rng.uniform(0.05, 0.3, len(oidx))),
        0,
    ).astype(np.int64)
    net_line = gross - disc
    del gross
    order_items = pa.table(
        {
            "order_item_id": ids("oi_", np.arange(1, len(oidx) + 1), 9),
            "order_id": order_id.take(arrow(oidx)),
            "product_id": ids("p_", prod + 1, 5),
            "quantity": arrow(qty.astype(np.int32)),
            "unit_price": money(price),
            "discount_amount": money(disc),
            "_loaded_at": order_loaded.take(arrow(oidx)),
        }
    )
    del prod, qty, price, disc, order_loaded
    order_net = np.bincount(oidx, weights=net_line, minlength=n).astype(np.int64)
    del oidx, net_line

    # --- payments ------------------------------------------------------------------------
    total = order_net + shipping
    fee = (total * 29 + 30_000 + 500) // 1000  # 2.9% + 0.30, half up to cents
    live = ~cancelled
    failed_first = live & (rng.random(n) < FAILED_BEFORE_CAPTURE)
    failed_cancel = cancelled & (rng.random(n) < FAILED_ON_CANCELLED)
    fail_at = at + rng.integers(2 * US_PER_SEC, 60 * US_PER_SEC, n)
    cap_at = np.where(failed_first, fail_at, at) + rng.integers(
        30 * US_PER_SEC, 300 * US_PER_SEC, n
    )
    f_idx = np.flatnonzero(failed_first | failed_cancel)
    c_idx = np.flatnonzero(live)
    p_order = np.concatenate([f_idx, c_idx])
    p_at = np.concatenate([fail_at[f_idx], cap_at[c_idx]])
    p_status = np.concatenate([np.zeros(len(f_idx), np.int64), np.ones(len(c_idx), np.int64)])
    p_fee = np.concatenate([np.zeros(len(f_idx), np.int64), fee[c_idx]])
    srt = np.lexsort((p_status, p_at))
    p_order, p_at, p_status, p_fee = p_order[srt], p_at[srt], p_status[srt], p_fee[srt]
    payments = pa.table(
        {
            "payment_id": ids("pay_", np.arange(1, len(p_order) + 1), 8),
            "order_id": order_id.take(arrow(p_order)),
            "paid_at": timestamps(p_at),
            "status": labels(("failed", "captured"), p_status),
            "amount": money(total[p_order]),
            "processor_fee": money(p_fee),
            "_loaded_at": timestamps(_loaded(rng, p_at, p)),
        }
    )

    # --- refunds -------------------------------------------------------------------------
    # The delay is drawn whatever the time left: a refund that would land after
    # the end of the range (or after the account is deleted) simply does not
    # exist yet. Squeezing delays into the time left piled refunds into the
    # last days (raw refunds rising ~5x over the last two weeks).
    limit = np.minimum(users.bound_us[uidx], p.end_us)
    r_idx = np.flatnonzero(live & (rng.random(n) < REFUND_SHARE))
    delay = uniform_us(rng, np.full(len(r_idx), US_PER_DAY), np.full(len(r_idx), 60 * US_PER_DAY))
    r_at = at[r_idx] + delay
    landed = r_at <= limit[r_idx] - US_PER_MIN
    r_idx, r_at = r_idx[landed], r_at[landed]
    full = rng.random(len(r_idx)) < FULL_REFUND_SHARE
    partial = np.floor(order_net[r_idx] * rng.uniform(0.1, 0.9, len(r_idx))).astype(np.int64)
    r_amount = np.where(full, order_net[r_idx], np.maximum(partial, 1))
    reason = rng.integers(0, len(REFUND_REASONS), len(r_idx))
    srt = np.argsort(r_at, kind="stable")
    r_idx, r_at, r_amount, reason = r_idx[srt], r_at[srt], r_amount[srt], reason[srt]
    refunds = pa.table(
        {
            "refund_id": ids("r_", np.arange(1, len(r_idx) + 1), 7),
            "order_id": order_id.take(arrow(r_idx)),
            "refunded_at": timestamps(r_at),
            "amount": money(r_amount),
            "reason": labels(REFUND_REASONS, reason, rng.random(len(r_idx)) < NULL_REASON),
            "_loaded_at": timestamps(_loaded(rng, r_at, p)),
        }
    )
    return OrderTables(orders, order_items, payments, refunds)
