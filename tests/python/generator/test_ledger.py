"""Finance and analytics tables recomputed independently (pandas + Python Decimal)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
ACCOUNTS = ["net_revenue", "cogs", "shipping_expense", "payment_fees", "refunds"]


def usd_round(x: Decimal | float) -> Decimal:
    d = Decimal(x)  # a float converts exactly
    return d.quantize(MICRO, ROUND_HALF_UP).quantize(CENT, ROUND_HALF_UP)


def alloc(a: Decimal, rate: Decimal, line: Decimal, order: Decimal, n: int) -> Decimal:
    # the share first, as macros/allocate_usd.sql: a * rate * (line / order)
    if order == 0:
        return usd_round(float(a) * float(rate) * (1.0 / n))
    return usd_round(float(a) * float(rate) * (float(line) / float(order)))


def read(out: Path, key: str) -> pd.DataFrame:
    return pq.read_table(out / f"{key}.parquet").to_pandas()


@pytest.fixture(scope="module")
def expected(small_out: Path) -> pd.DataFrame:
    """One row per booked amount: posted_date, account, amount (Decimal)."""
    users = read(small_out, "app/users")
    orders = read(small_out, "app/orders")
    items = read(small_out, "app/order_items")
    payments = read(small_out, "app/payments")
    refunds = read(small_out, "app/refunds")
    fx = read(small_out, "finance/fx_rates")
    costs = read(small_out, "finance/product_costs")
    rate = {(r.rate_date, r.currency): r.usd_per_unit for r in fx.itertuples()}

    test_users = set(users.loc[users.is_test_account, "user_id"])
    scoped = orders[(orders.status != "cancelled") & ~orders.user_id.isin(test_users)].copy()
    scoped["od"] = scoped.ordered_at.dt.date
    lines = items.merge(scoped[["order_id", "od", "currency", "shipping_cost"]], on="order_id")
    lines["net"] = [
        q * p - d
        for q, p, d in zip(lines.quantity, lines.unit_price, lines.discount_amount, strict=True)
    ]
    per_order = lines.groupby("order_id").agg(
        order_net=("net", lambda s: sum(s, Decimal(0))), n=("net", "size")
    )
    lines = lines.join(per_order, on="order_id")
    lines["rate"] = [rate[(d, c)] for d, c in zip(lines.od, lines.currency, strict=True)]

    cost_rows: dict[str, list[tuple[dt.date, dt.date, Decimal]]] = {}
    for c in costs.itertuples():
        to = c.valid_to if pd.notna(c.valid_to) else dt.date.max
        cost_rows.setdefault(c.product_id, []).append((c.valid_from, to, c.unit_cost_usd))

    def cost_on(product: str, day: dt.date) -> Decimal:
        hits = [u for f, t, u in cost_rows[product] if f <= day < t]
        assert len(hits) == 1, (product, day)
        return hits[0]

    fees = (
        payments[payments.status == "captured"]
        .groupby("order_id")
        .processor_fee.agg(lambda s: sum(s, Decimal(0)))
    )
    rows: list[tuple[dt.date, str, Decimal]] = []
    for ln in lines.itertuples():
        rows.append((ln.od, "net_revenue", usd_round(ln.net * ln.rate)))
        rows.append((ln.od, "cogs", usd_round(ln.quantity * cost_on(ln.product_id, ln.od))))
        rows.append(
            (
                ln.od,
                "shipping_expense",
                alloc(ln.shipping_cost, ln.rate, ln.net, ln.order_net, ln.n),
            )
        )
        rows.append(
            (
                ln.od,
                "payment_fees",
                alloc(fees.get(ln.order_id, Decimal(0)), ln.rate, ln.net, ln.order_net, ln.n),
            )
        )
    by_order = {k: g for k, g in lines.groupby("order_id")}
    for r in refunds.itertuples():
        if r.order_id not in by_order:
            continue
        rd = r.refunded_at.date()
        for ln in by_order[r.order_id].itertuples():
            rows.append(
                (
                    rd,
                    "refunds",
                    alloc(r.amount, rate[(rd, ln.currency)], ln.net, ln.order_net, ln.n),
                )
            )
    return pd.DataFrame(rows, columns=["posted_date", "account", "amount"])


def sums(df: pd.DataFrame, keys: list[str]) -> dict[tuple, Decimal]:
    return {
        k: sum(g.amount if "amount" in g else g.amount_usd, Decimal(0)) for k, g in df.groupby(keys)
    }


@pytest.fixture(scope="module")
def ledger(small_out: Path) -> pd.DataFrame:
    return read(small_out, "finance/ledger_entries")


def test_ledger_days_equal_recomputation_except_correction(expected, ledger):
    regular = ledger[~ledger.entry_id.str.startswith("le_corr_")]
    assert not regular.duplicated(["posted_date", "account"]).any()
    exp = {k: v for k, v in sums(expected, ["posted_date", "account"]).items() if v != 0}
    got = {(r.posted_date, r.account): r.amount_usd for r in regular.itertuples()}
    assert got == exp
    assert set(regular.account) == set(ACCOUNTS)
    assert (
        regular.entry_id == "le_" + regular.posted_date.astype(str) + "_" + regular.account
    ).all()


def test_ledger_months_equal_recomputation_except_correction(expected, ledger):
    expected = expected.assign(month=[d.strftime("%Y-%m") for d in expected.posted_date])
    ledger = ledger.assign(
        month=[d.strftime("%Y-%m") for d in ledger.posted_date], amount=ledger.amount_usd
    )
    corr = ledger[ledger.entry_id.str.startswith("le_corr_")]
    got = sums(ledger, ["month", "account"])
    for k, v in sums(corr, ["month", "account"]).items():
        got[k] -= v
    assert got == sums(expected, ["month", "account"])


def quarter(d: dt.date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def test_filings_equal_quarterly_ledger_minus_correction(expected, ledger, small_out, small_params):
    filings = read(small_out, "finance/filings")
    q = expected.assign(q=[quarter(d) for d in expected.posted_date])
    s = sums(q, ["q", "account"])
    want = {}
    for fq in sorted({k[0] for k in s}):
        q_end = pd.Period(fq.replace("-Q", "Q"), "Q").end_time.date()
        if q_end + dt.timedelta(days=30) > small_params.end:
            continue
        a = {acc: s.get((fq, acc), Decimal(0)) for acc in ACCOUNTS}
        gross = a["net_revenue"] - a["cogs"] - a["refunds"]
        want[(fq, "net_revenue")] = (a["net_revenue"], q_end + dt.timedelta(days=30))
        want[(fq, "gross_profit")] = (gross, q_end + dt.timedelta(days=30))
        want[(fq, "contribution_profit")] = (
            gross - a["shipping_expense"] - a["payment_fees"],
            q_end + dt.timedelta(days=30),
        )
    got = {(r.fiscal_quarter, r.metric): (r.reported_usd, r.filed_on) for r in filings.itertuples()}
    assert got == want
    assert {k[0] for k in want} == {"2024-Q1", "2024-Q2"}

    corr = ledger[ledger.entry_id.str.startswith("le_corr_")]
    assert len(corr) == 1
    c = corr.iloc[0]
    first_q_rev = want[("2024-Q1", "net_revenue")][0]
    assert c.entry_id == "le_corr_2024-Q1"
    assert c.account == "net_revenue"
    assert c.posted_date == dt.date(2024, 3, 31)
    assert c.amount_usd == max(
        CENT, (first_q_rev * Decimal("0.0002")).quantize(CENT, ROUND_HALF_UP)
    )
    assert c._loaded_at.date() > dt.date(2024, 4, 30)
    # the current ledger differs from the filing by the correction only, within 0.1%
    q1_now = sum(
        ledger[
            (ledger.account == "net_revenue") & (ledger.posted_date <= dt.date(2024, 3, 31))
        ].amount_usd,
        Decimal(0),
    )
    assert q1_now - first_q_rev == c.amount_usd
    assert c.amount_usd / first_q_rev < Decimal("0.001")


def test_active_user_counts_equal_distinct_non_test_users(small_out, small_params):
    users = read(small_out, "app/users")
    events = read(small_out, "events/events")
    counts = read(small_out, "analytics/active_user_counts")
    real = set(users.loc[~users.is_test_account, "user_id"])
    ev = events[events.user_id.isin(real)]
    per_day = ev.groupby(ev.occurred_at.dt.date).user_id.nunique()
    days = pd.date_range(small_params.start, small_params.end, freq="D").date
    want = [int(per_day.get(d, 0)) for d in days]
    assert list(counts.activity_date) == list(days)
    assert list(counts.active_users) == want
    assert sum(want) > 0
    # test accounts are active too, and would change the counts
    with_test = events[events.user_id.notna()].groupby(events.occurred_at.dt.date).user_id.nunique()
    assert int(with_test.sum()) > sum(want)
