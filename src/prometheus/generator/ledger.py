"""finance/ledger_entries, finance/filings and analytics/active_user_counts, in DuckDB SQL.

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
- Allocation of an order-level local amount ``A`` at date ``d`` to a line:
  ``usd_round(cast(A as double) * cast(rate(d) as double) * cast(line_net_local as double)
  / cast(order_net_local as double))``, evaluated left to right; when
  ``order_net_local = 0`` the last two factors are ``* 1.0 / line_count``.
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
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from .params import Params

CORRECTION_RATE = "0.0002"
FAR_FUTURE = "9999-12-31"

LEDGER_SQL = f"""
create or replace temp macro usd_round(x) as round(cast(x as decimal(38, 6)), 2);
create or replace temp macro alloc(a, r, ln, onl, lc) as usd_round(
    case when onl = 0
         then cast(a as double) * cast(r as double) * 1.0 / lc
         else cast(a as double) * cast(r as double) * cast(ln as double) / cast(onl as double)
    end);
create or replace temp table _lines as
with scoped as (
    select o.order_id, o.currency, o.shipping_cost, cast(o.ordered_at as date) as od
    from orders o join users u on u.user_id = o.user_id
    where o.status <> 'cancelled' and not u.is_test_account
), l as (
    select i.order_item_id, i.order_id, i.product_id, i.quantity, s.od, s.currency,
           s.shipping_cost, i.quantity * i.unit_price - i.discount_amount as line_net_local
    from order_items i join scoped s on s.order_id = i.order_id
)
select l.*,
       sum(l.line_net_local) over (partition by l.order_id) as order_net_local,
       count(*) over (partition by l.order_id) as line_count,
       fx.usd_per_unit as rate
from l join fx_rates fx on fx.rate_date = l.od and fx.currency = l.currency;

create or replace temp table _amounts as
with fees as (
    select order_id, sum(processor_fee) as fee
    from payments where status = 'captured' group by order_id
)
select l.od as posted_date, 'net_revenue' as account,
       usd_round(l.line_net_local * l.rate) as amount
from _lines l
union all
select l.od, 'cogs', usd_round(l.quantity * c.unit_cost_usd)
from _lines l join product_costs c
  on c.product_id = l.product_id and c.valid_from <= l.od
 and l.od < coalesce(c.valid_to, date '{FAR_FUTURE}')
union all
select l.od, 'shipping_expense',
       alloc(l.shipping_cost, l.rate, l.line_net_local, l.order_net_local, l.line_count)
from _lines l
union all
select l.od, 'payment_fees',
       alloc(f.fee, l.rate, l.line_net_local, l.order_net_local, l.line_count)
from _lines l join fees f on f.order_id = l.order_id
union all
select cast(r.refunded_at as date), 'refunds',
       alloc(r.amount, fx.usd_per_unit, l.line_net_local, l.order_net_local, l.line_count)
from refunds r
join _lines l on l.order_id = r.order_id
join fx_rates fx on fx.rate_date = cast(r.refunded_at as date) and fx.currency = l.currency;

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


def build_ledger(p: Params, tables: dict[str, pa.Table]) -> tuple[pa.Table, pa.Table]:
    """Return (ledger_entries, filings) computed from the app and finance tables."""
    con = duckdb.connect()
    try:
        for key in ("users", "orders", "order_items", "payments", "refunds"):
            con.register(key, tables[f"app/{key}"])
        for key in ("fx_rates", "product_costs"):
            con.register(key, tables[f"finance/{key}"])
        prm = _params(p)
        for stmt in LEDGER_SQL.split(";"):
            if stmt.strip():
                used = {k: v for k, v in prm.items() if f"${k}" in stmt}
                con.execute(stmt, used or None)
        ledger = con.execute(LEDGER_OUT).fetch_arrow_table()
        filings = con.execute(FILINGS_OUT).fetch_arrow_table()
    finally:
        con.close()
    return ledger, filings


ACTIVE_PAIRS_SQL = """
select distinct cast(e.occurred_at as date) as activity_date, e.user_id
from events_chunk e join users u on u.user_id = e.user_id
where not u.is_test_account
"""

ACTIVE_COUNTS_SQL = """
with days as (
    select cast(d as date) as activity_date
    from range($start::timestamp, $end::timestamp + interval 1 day, interval 1 day) t(d)
), counts as (
    select activity_date, count(distinct user_id) as n from pairs group by activity_date
)
select d.activity_date, cast(coalesce(c.n, 0) as bigint) as active_users,
       cast(d.activity_date as timestamp) + interval 1 day + interval 3 hour as _loaded_at
from days d left join counts c using (activity_date)
order by d.activity_date
"""


class ActiveUsers:
    """Accumulates distinct (day, non-test user) pairs chunk by chunk (bounded memory)."""

    def __init__(self, users: pa.Table) -> None:
        self._con = duckdb.connect()
        self._con.register("users", users)
        self._pairs: list[pa.Table] = []

    def add(self, events_chunk: pa.Table) -> None:
        self._con.register("events_chunk", events_chunk)
        self._pairs.append(self._con.execute(ACTIVE_PAIRS_SQL).fetch_arrow_table())
        self._con.unregister("events_chunk")

    def table(self, p: Params) -> pa.Table:
        pairs = (
            pa.concat_tables(self._pairs)
            if self._pairs
            else pa.table(
                {"activity_date": pa.array([], pa.date32()), "user_id": pa.array([], pa.string())}
            )
        )
        self._con.register("pairs", pairs)
        prm = _params(p)
        out = self._con.execute(ACTIVE_COUNTS_SQL, {"start": prm["start"], "end": prm["end"]})
        result = out.fetch_arrow_table()
        self._con.close()
        return result
