"""finance/ledger_entries and finance/filings (DuckDB SQL), analytics/active_user_counts.

These are the numbers the dbt marts are reconciled against, so the rules are exact.

Scope: non-cancelled orders of non-test users (test accounts' orders are never
booked). For an order line with order date ``od = cast(ordered_at as date)`` and
``rate(d)`` = ``fx_rates.usd_per_unit`` of day ``d`` and the order's currency:

- ``line_net_local = quantity * unit_price - discount_amount``;
  ``order_net_local`` = the sum over the order's lines (``line_count`` lines).
- Rounding: ``usd_round(x) = round(cast(x as decimal(38, 6)), 2)`` (DuckDB rounds
  DECIMALs half away from zero, both in the cast and in ``round``).
- net_revenue = ``usd_round(line_net_local * rate(od))`` (exact DECIMAL product).
- cogs = ``usd_round(quantity * unit_cost_usd)`` with the cost whose
  ``valid_from <= od < coalesce(valid_to, far future)``.
- Allocation of an order-level local amount ``A`` at date ``d`` to a line, as the
  marts' macro allocate_usd: ``usd_round(cast(A as double) * cast(rate(d) as double)
  * (cast(line_net_local as double) / cast(order_net_local as double)))``, the share
  computed first; when ``order_net_local = 0`` the share is ``1.0 / line_count``.
  (tests/python/generator/test_ledger_rules_match_macros.py checks these rules against
  the compiled macros.)
  shipping_expense allocates ``orders.shipping_cost`` at ``od``; payment_fees the
  sum of ``processor_fee`` of the order's captured payments at ``od``; refunds
  allocate each refund row separately at ``rd = cast(refunded_at as date)``,
  booked on ``rd``.
- ledger_entries: one entry per (posted_date, account) with any amount, the sum of
  the per-line rounded amounts of that day; entry_id ``le_<YYYY-MM-DD>_<account>``;
  ``_loaded_at`` = posted_date + 1 day 02:00.
- filings: each whole calendar quarter (starting on or after the start date) whose
  ``filed_on`` = quarter end + 30 days is <= the end date; metrics net_revenue,
  gross_profit = net_revenue - cogs - refunds, contribution_profit = gross_profit -
  shipping_expense - payment_fees, summed from the entries of the quarter loaded
  by filed_on (the ledger as it stood when filed); ``_loaded_at`` = filed_on 18:00.
- Correction: for the first filed quarter one more entry ``le_corr_<YYYY>-Q<n>``,
  account net_revenue, posted on the quarter's last day, amount =
  max(0.01, round(0.0002 * that quarter's filed net revenue, 2)), loaded at
  least(filed_on + 14 days 09:00, extraction time) - after filing. So the current
  ledger exceeds the filing (and the marts) by ~0.02% in that quarter only.
- active_user_counts: one row per calendar day start..end: count of distinct
  user_id of non-test users with at least one delivered event whose
  ``cast(occurred_at as date)`` is that day (0 where none); ``_loaded_at`` = day +
  1 day 03:00.

How (the figures do not depend on it): each amount is rounded per line and summed per
(day, account) right away, DECIMAL sums being exact. The order lines are joined to their
orders, payments, refunds, fx rates and costs in numpy on integer keys (ledger_lines.py;
VARCHAR joins in DuckDB took minutes and GBs at scale 10), and DuckDB applies the rules
above with the same SQL expressions on the same column types, 2M lines at a time; input
that ledger_lines cannot take exactly (ids of other forms, duplicate keys, nulls where
the joins would need SQL's null semantics) goes through the same rules all in SQL
(LINES_SQL). ``usd_round`` narrows the DECIMAL(38,6) to DECIMAL(18,6) before ``round``:
the same value (amounts stay far below 10^12, else the cast fails) in 64-bit instead of
128-bit arithmetic, ~50x faster. DuckDB gets a memory limit and spills to a scratch
folder beyond it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from .columns import arrow, dates, timestamps
from .ledger_lines import booked_lines
from .params import US_PER_DAY, US_PER_HOUR, Params

CORRECTION_RATE = "0.0002"
FAR_FUTURE = "9999-12-31"
MEMORY_LIMIT = "4GB"  # DuckDB's, for the ledger query; it spills to a scratch folder beyond

MACROS_SQL = """
create or replace temp macro usd_round(x) as
    round(cast(cast(x as decimal(38, 6)) as decimal(18, 6)), 2);
create or replace temp macro alloc(a, r, ln, onl, lc) as usd_round(
    cast(a as double) * cast(r as double)
    * case when onl = 0 then 1.0 / lc else cast(ln as double) / cast(onl as double) end);
create or replace temp table _amounts (posted_date date, account varchar, amount decimal(38, 2));
"""

# The general path, on the registered tables (used when ledger_lines finds the input
# not plain): one row per booked order line, with its order's totals and rate, then per
# (day, account) the sum of the per-line rounded amounts.
LINES_SQL = f"""
create or replace temp table _lines as
with scoped as (
    select o.order_id, o.currency, o.shipping_cost, cast(o.ordered_at as date) as od
    from orders o join users u on u.user_id = o.user_id
    where o.status <> 'cancelled' and not u.is_test_account
), l as (
    select i.order_id, i.product_id, i.quantity, s.od, s.currency,
           s.shipping_cost, i.quantity * i.unit_price - i.discount_amount as line_net_local
    from order_items i join scoped s on s.order_id = i.order_id
), per_order as (
    select order_id, sum(line_net_local) as order_net_local, count(*) as line_count
    from l group by order_id
)
select l.*, p.order_net_local, p.line_count, fx.usd_per_unit as rate
from l join per_order p on p.order_id = l.order_id
join fx_rates fx on fx.rate_date = l.od and fx.currency = l.currency;

insert into _amounts
with fees as (
    select order_id, sum(processor_fee) as fee
    from payments where status = 'captured' group by order_id
)
select l.od as posted_date, 'net_revenue' as account,
       sum(usd_round(l.line_net_local * l.rate)) as amount
from _lines l group by l.od
union all
select l.od, 'cogs', sum(usd_round(l.quantity * c.unit_cost_usd))
from _lines l join product_costs c
  on c.product_id = l.product_id and c.valid_from <= l.od
 and l.od < coalesce(c.valid_to, date '{FAR_FUTURE}')
group by l.od
union all
select l.od, 'shipping_expense',
       sum(alloc(l.shipping_cost, l.rate, l.line_net_local, l.order_net_local, l.line_count))
from _lines l group by l.od
union all
select l.od, 'payment_fees',
       sum(alloc(f.fee, l.rate, l.line_net_local, l.order_net_local, l.line_count))
from _lines l join fees f on f.order_id = l.order_id group by l.od
union all
select cast(r.refunded_at as date), 'refunds',
       sum(alloc(r.amount, fx.usd_per_unit, l.line_net_local, l.order_net_local, l.line_count))
from refunds r
join _lines l on l.order_id = r.order_id
join fx_rates fx on fx.rate_date = cast(r.refunded_at as date) and fx.currency = l.currency
group by 1;
"""

# The fast path: the same per-line rules on ledger_lines.BookedLines, chunk by chunk (the
# day sums of the chunks add up exactly in _ledger).
LINE_AMOUNTS_SQL = """
insert into _amounts
select od, 'net_revenue', sum(usd_round(line_net_local * rate)) from lines group by od
union all
select od, 'cogs', sum(usd_round(quantity * unit_cost_usd))
from lines where unit_cost_usd is not null group by od
union all
select od, 'shipping_expense',
       sum(alloc(shipping_cost, rate, line_net_local, order_net_local, line_count))
from lines group by od
union all
select od, 'payment_fees', sum(alloc(fee, rate, line_net_local, order_net_local, line_count))
from lines where fee is not null group by od
"""

REFUND_AMOUNTS_SQL = """
insert into _amounts
select rd, 'refunds', sum(alloc(amount, rate, line_net_local, order_net_local, line_count))
from refund_lines group by rd
"""

LEDGER_SQL = f"""
create or replace temp table _ledger as
select 'le_' || strftime(posted_date, '%Y-%m-%d') || '_' || account as entry_id,
       posted_date, account,
       cast(sum(amount) as decimal(18, 2)) as amount_usd,
       cast(posted_date + interval 1 day + interval 2 hour as timestamp) as _loaded_at
from _amounts group by posted_date, account;

create or replace temp table _quarters as
with q as (
    select distinct date_trunc('quarter', d)::date as q_start
    from range($start::timestamp, $end::timestamp + interval 1 day, interval 1 day) t(d)
)
select q_start,
       (q_start + interval 3 month - interval 1 day)::date as q_end,
       (q_start + interval 3 month - interval 1 day + interval 30 day)::date as filed_on,
       strftime(q_start, '%Y') || '-Q' || cast(quarter(q_start) as varchar) as fiscal_quarter
from q
where (q_start + interval 3 month - interval 1 day + interval 30 day)::date <= $end::date
  -- only whole quarters are filed: a quarter that began before the data did
  -- would have had business this dataset does not contain
  and q_start >= $start::date;

create or replace temp table _filing_sums as
select q.fiscal_quarter, q.q_end, q.filed_on,
       sum(case when account = 'net_revenue' then amount_usd else 0 end) as rev,
       sum(case when account = 'cogs' then amount_usd else 0 end) as cogs,
       sum(case when account = 'refunds' then amount_usd else 0 end) as refunds,
       sum(case when account = 'shipping_expense' then amount_usd else 0 end) as ship,
       sum(case when account = 'payment_fees' then amount_usd else 0 end) as fees
from _quarters q left join _ledger l
  on l.posted_date between q.q_start and q.q_end and cast(l._loaded_at as date) <= q.filed_on
group by all;

create or replace temp table _correction as
select 'le_corr_' || fiscal_quarter as entry_id, q_end as posted_date,
       'net_revenue' as account,
       cast(greatest(0.01, round(rev * {CORRECTION_RATE}, 2)) as decimal(18, 2)) as amount_usd,
       least(cast(filed_on as timestamp) + interval 14 day + interval 9 hour,
             $extraction::timestamp) as _loaded_at
from _filing_sums order by filed_on limit 1;
"""

LEDGER_OUT = """
select entry_id, posted_date, account, amount_usd, _loaded_at from _ledger
union all
select entry_id, posted_date, account, amount_usd, _loaded_at from _correction
order by posted_date, entry_id
"""

FILINGS_OUT = """
select fiscal_quarter, m.metric as metric, cast(m.reported as decimal(18, 2)) as reported_usd,
       filed_on,
       cast(filed_on as timestamp) + interval 18 hour as _loaded_at
from _filing_sums,
     unnest([
        {'metric': 'net_revenue', 'reported': rev, 'ord': 1},
        {'metric': 'gross_profit', 'reported': rev - cogs - refunds, 'ord': 2},
        {'metric': 'contribution_profit', 'reported': rev - cogs - refunds - ship - fees, 'ord': 3}
     ]) as t(m)
order by filed_on, m.ord
"""


def _params(p: Params) -> dict[str, str]:
    return {
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "extraction": p.extraction_time.isoformat(sep=" "),
    }


def _run(con: duckdb.DuckDBPyConnection, sql: str, prm: dict[str, str] | None = None) -> None:
    for stmt in sql.split(";"):
        if stmt.strip():
            used = {k: v for k, v in (prm or {}).items() if f"${k}" in stmt}
            con.execute(stmt, used or None)


def connect(
    scratch: Path | None = None, memory_limit: str = MEMORY_LIMIT
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a memory limit that spills to ``scratch`` (if given)."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "preserve_insertion_order": False,
    }
    if scratch is not None:
        config["temp_directory"] = str(scratch)
    con = duckdb.connect(config=config)
    con.execute("set enable_progress_bar = false")
    return con


def build_ledger(
    p: Params, tables: dict[str, pa.Table], scratch: Path | None = None
) -> tuple[pa.Table, pa.Table]:
    """Return (ledger_entries, filings) computed from the app and finance tables.

    ``scratch``: a folder DuckDB may spill to (it is not cleaned up here)."""
    con = connect(scratch)
    try:
        _run(con, MACROS_SQL)
        lines = booked_lines(tables)
        if lines is None:
            for key, columns in LEDGER_INPUTS.items():
                con.register(key.split("/")[1], tables[key].select(columns))
            _run(con, LINES_SQL)
        else:
            for chunk in lines.line_chunks():
                con.register("lines", chunk)
                con.execute(LINE_AMOUNTS_SQL)
                con.unregister("lines")
            con.register("refund_lines", lines.refund_lines())
            con.execute(REFUND_AMOUNTS_SQL)
            del lines
        _run(con, LEDGER_SQL, _params(p))
        ledger = con.execute(LEDGER_OUT).fetch_arrow_table()
        filings = con.execute(FILINGS_OUT).fetch_arrow_table()
    finally:
        con.close()
    return ledger, filings


# The columns the ledger reads, per input table.
LEDGER_INPUTS: dict[str, list[str]] = {
    "app/users": ["user_id", "is_test_account"],
    "app/orders": ["order_id", "user_id", "ordered_at", "status", "currency", "shipping_cost"],
    "app/order_items": [
        "order_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount_amount",
    ],
    "app/payments": ["order_id", "status", "processor_fee"],
    "app/refunds": ["order_id", "refunded_at", "amount"],
    "finance/fx_rates": ["rate_date", "currency", "usd_per_unit"],
    "finance/product_costs": ["product_id", "valid_from", "valid_to", "unit_cost_usd"],
}


class ActiveUsers:
    """Accumulates the distinct (day, non-test user) pairs of the delivered events, month by
    month, as int64 keys ``day * n_users + user index`` (events.active_keys)."""

    def __init__(self, n_users: int) -> None:
        self.n_users = n_users
        self._keys: list[np.ndarray] = []

    def add(self, keys: np.ndarray) -> None:
        self._keys.append(keys)

    def table(self, p: Params) -> pa.Table:
        """One row per day start..end: the number of distinct non-test users active that day."""
        keys = np.concatenate(self._keys) if self._keys else np.zeros(0, np.int64)
        # sorted runs (the months) that overlap only around month ends: timsort is ~linear
        keys.sort(kind="stable")
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
        day = keys // max(self.n_users, 1) - p.start_day
        day = day[(day >= 0) & (day < p.n_days)]
        counts = np.bincount(day, minlength=p.n_days).astype(np.int64)
        days = np.arange(p.start_day, p.end_day + 1, dtype=np.int64)
        return pa.table(
            {
                "activity_date": dates(days),
                "active_users": arrow(counts),
                "_loaded_at": timestamps((days + 1) * US_PER_DAY + 3 * US_PER_HOUR),
            }
        )
