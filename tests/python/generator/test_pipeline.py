"""End-to-end properties of a small generated data set (determinism, realism, cleanliness)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from prometheus.generator.contract import TABLES
from prometheus.generator.pipeline import generate


def test_same_arguments_give_identical_tables(small_out, small_params, tmp_path):
    again = tmp_path / "raw"
    generate(small_params, again, stderr=None)
    for t in TABLES:
        a = pq.read_table(small_out / f"{t.key}.parquet")
        b = pq.read_table(again / f"{t.key}.parquet")
        assert a.equals(b), t.key
    assert (small_out / "_generation.json").read_text() == (again / "_generation.json").read_text()


def test_other_seed_gives_other_rows(small_out, small_params, tmp_path):
    other = tmp_path / "raw"
    generate(
        small_params.__class__(
            scale=small_params.scale,
            seed=small_params.seed + 1,
            start=small_params.start,
            end=small_params.end,
        ),
        other,
        stderr=None,
    )
    a = pq.read_table(small_out / "app/users.parquet")
    b = pq.read_table(other / "app/users.parquet")
    assert not a.equals(b)


def test_writes_exactly_the_contract_files(small_out: Path):
    written = sorted(str(p.relative_to(small_out)) for p in small_out.rglob("*") if p.is_file())
    expected = sorted([f"{t.key}.parquet" for t in TABLES] + ["_generation.json"])
    assert written == expected


def test_generation_json(small_out: Path, small_params):
    meta = json.loads((small_out / "_generation.json").read_text())
    assert meta["arguments"]["seed"] == small_params.seed
    assert meta["extraction_time"] == "2024-10-01T06:00:00"
    for t in TABLES:
        assert (
            meta["row_counts"][t.key] == pq.read_metadata(small_out / f"{t.key}.parquet").num_rows
        )
        assert meta["row_counts"][t.key] > 0, t.key


def one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


# (description, sql returning a number that must be 0)
MUST_BE_ZERO = [
    (
        "null keys in users",
        "select count(*) from users where user_id is null or signed_up_at is null",
    ),
    (
        "null keys/measures in orders",
        "select count(*) from orders where order_id is null or user_id is null or "
        "ordered_at is null "
        "or status is null or currency is null or shipping_cost is null",
    ),
    (
        "null keys/measures in items",
        "select count(*) from order_items where order_item_id is null or order_id is null "
        "or product_id is null or quantity is null or unit_price is null or "
        "discount_amount is null",
    ),
    (
        "null measures in payments",
        "select count(*) from payments where payment_id is null or amount is null "
        "or processor_fee is null or order_id is null",
    ),
    (
        "null measures in refunds",
        "select count(*) from refunds where amount is null or order_id is null",
    ),
    ("null cost", "select count(*) from product_costs where unit_cost_usd is null"),
    (
        "null event keys",
        "select count(*) from events where event_id is null or session_id is null "
        "or occurred_at is null or received_at is null or event_name is null",
    ),
    ("duplicate user ids", "select count(*) - count(distinct user_id) from users"),
    ("duplicate order ids", "select count(*) - count(distinct order_id) from orders"),
    ("duplicate item ids", "select count(*) - count(distinct order_item_id) from order_items"),
    ("duplicate payment ids", "select count(*) - count(distinct payment_id) from payments"),
    ("duplicate refund ids", "select count(*) - count(distinct refund_id) from refunds"),
    (
        "duplicate assignment keys",
        "select count(*) - count(distinct (experiment_id, user_id)) from experiment_assignments",
    ),
    ("duplicate fx keys", "select count(*) - count(distinct (rate_date, currency)) from fx_rates"),
    (
        "duplicate cost keys",
        "select count(*) - count(distinct (product_id, valid_from)) from product_costs",
    ),
    ("orphan orders", "select count(*) from orders o anti join users u using (user_id)"),
    ("orphan items", "select count(*) from order_items i anti join orders o using (order_id)"),
    (
        "orphan item products",
        "select count(*) from order_items i anti join products p using (product_id)",
    ),
    ("orphan payments", "select count(*) from payments p anti join orders o using (order_id)"),
    ("orphan refunds", "select count(*) from refunds r anti join orders o using (order_id)"),
    (
        "orphan assignments",
        "select count(*) from experiment_assignments a anti join users using (user_id)",
    ),
    (
        "orphan events",
        "select count(*) from events e anti join users u using (user_id) "
        "where e.user_id is not null",
    ),
    ("quantity <= 0", "select count(*) from order_items where quantity <= 0"),
    (
        "bad discount",
        "select count(*) from order_items where discount_amount < 0 "
        "or discount_amount >= quantity * unit_price",
    ),
    (
        "refund above net lines",
        "select count(*) from refunds r join (select order_id, sum(quantity * unit_price - "
        "discount_amount) n from order_items group by 1) t using (order_id) where r.amount > t.n "
        "or r.amount <= 0",
    ),
    (
        "refund of cancelled order",
        "select count(*) from refunds r join orders o using (order_id) where o.status = "
        "'cancelled'",
    ),
    (
        "refund outside 1-60 days",
        "select count(*) from refunds r join orders o using (order_id) where "
        "r.refunded_at < o.ordered_at + interval 1 day or r.refunded_at > o.ordered_at + "
        "interval 60 day",
    ),
    (
        "events before signup or after deletion",
        "select count(*) from events e join users u using (user_id) "
        "where e.occurred_at < u.signed_up_at or e.occurred_at > u.deleted_at",
    ),
    (
        "orders before signup or after deletion",
        "select count(*) from orders o join users u using (user_id) "
        "where o.ordered_at < u.signed_up_at or o.ordered_at > u.deleted_at",
    ),
    (
        "assignment outside life",
        "select count(*) from experiment_assignments a join users u using (user_id) "
        "where a.assigned_at <= u.signed_up_at or a.assigned_at >= u.deleted_at",
    ),
    (
        "non-captured payment count",
        "select count(*) from (select o.order_id, count(*) filter (where p.status = 'captured') c "
        "from orders o left join payments p using (order_id) group by all) t join orders o "
        "using (order_id) where (o.status = 'cancelled' and c <> 0) or (o.status <> 'cancelled' "
        "and c <> 1)",
    ),
    (
        "captured amount != net lines + shipping",
        "select count(*) from payments p join orders o using (order_id) join (select order_id, "
        "sum(quantity * unit_price - discount_amount) n from order_items group by 1) t "
        "using (order_id) where p.amount <> t.n + o.shipping_cost",
    ),
    (
        "fee not 2.9% + 0.30",
        "select count(*) from payments where status = 'captured' and "
        "processor_fee <> round(amount * 0.029 + 0.30, 2)",
    ),
    (
        "failed not before capture",
        "select count(*) from payments f join payments c using (order_id) "
        "where f.status = 'failed' and c.status = 'captured' and f.paid_at >= c.paid_at",
    ),
    (
        "cost overlaps",
        "select count(*) from product_costs c join product_costs d on c.product_id = d.product_id "
        "and c.valid_from < d.valid_from and coalesce(c.valid_to, date '9999-12-31') > "
        "d.valid_from",
    ),
    (
        "cost gaps",
        "select count(*) from product_costs c where c.valid_to is not null and not exists "
        "(select 1 from product_costs d where d.product_id = c.product_id "
        "and d.valid_from = c.valid_to)",
    ),
    (
        "line without cost on order date",
        "select count(*) from order_items i join orders o using (order_id) where not exists "
        "(select 1 from product_costs c where c.product_id = i.product_id and c.valid_from <= "
        "cast(o.ordered_at as date) and cast(o.ordered_at as date) < coalesce(c.valid_to, "
        "date '9999-12-31'))",
    ),
    (
        "fx not one row per day and currency",
        "select abs(count(*) - 5 * (date '2024-09-30' - date '2024-01-01' + 1)) from fx_rates",
    ),
    (
        "usd rate not 1",
        "select count(*) from fx_rates where currency = 'USD' and usd_per_unit <> 1",
    ),
    (
        "duplicate delivery with other content",
        "select count(*) from (select event_id from events group by 1 having count(distinct "
        "(user_id, session_id, event_name, occurred_at, coalesce(platform, '?'))) > 1)",
    ),
    (
        "duplicate not later",
        "select count(*) from events a join events b using (event_id) where a.received_at < "
        "b.received_at and a._loaded_at >= b._loaded_at",
    ),
    (
        "session not from session_start to session_end (all delivered)",
        "select count(*) from (select session_id, arg_min(event_name, occurred_at) f, "
        "arg_max(event_name, occurred_at) l, max(occurred_at) m from events group by 1) "
        "where m < timestamp '2024-09-25' and (f <> 'session_start' or l <> 'session_end')",
    ),
    (
        "session longer than 20",
        "select count(*) from (select session_id from events group by 1 "
        "having count(distinct event_id) > 20)",
    ),
    (
        "bad enum values",
        "select (select count(*) from orders where status not in ('placed', 'shipped', "
        "'delivered', "
        "'cancelled') or currency not in ('USD', 'EUR', 'GBP', 'CAD', 'AUD')) + (select count(*) "
        "from events where platform not in ('ios', 'android', 'web')) + (select count(*) "
        "from users "
        "where acquisition_channel not in ('organic', 'paid_search', 'paid_social', 'referral', "
        "'partner'))",
    ),
]

TIMESTAMPS = {
    "users": ["signed_up_at", "deleted_at"],
    "orders": ["ordered_at"],
    "payments": ["paid_at"],
    "refunds": ["refunded_at"],
    "products": ["updated_at"],
    "experiment_assignments": ["assigned_at"],
    "events": ["occurred_at"],
}
ROW_TIME = {
    "users": "greatest(signed_up_at, coalesce(deleted_at, signed_up_at))",
    "orders": "ordered_at",
    "order_items": None,
    "products": "updated_at",
    "payments": "paid_at",
    "refunds": "refunded_at",
    "experiment_assignments": "assigned_at",
    "events": "received_at",
    "active_user_counts": "activity_date",
    "fx_rates": "rate_date",
    "ledger_entries": "posted_date",
    "product_costs": "valid_from",
    "filings": "filed_on",
}


@pytest.mark.parametrize(("what", "sql"), MUST_BE_ZERO, ids=[w for w, _ in MUST_BE_ZERO])
def test_clean_invariants(con, what, sql):
    assert one(con, sql) == 0, what


@pytest.mark.parametrize(("table", "cols"), sorted(TIMESTAMPS.items()))
def test_everything_within_range(con, table, cols):
    for c in cols:
        lo, hi = con.execute(f"select min({c}), max({c}) from {table}").fetchone()
        assert str(lo) >= "2024-01-01", (table, c, lo)
        assert str(hi) <= "2024-09-30 23:59:59", (table, c, hi)


@pytest.mark.parametrize("table", sorted(ROW_TIME))
def test_loaded_at_after_row_time_and_before_extraction(con, table):
    assert (
        one(
            con,
            f"select count(*) from {table} where _loaded_at is null or "
            f"_loaded_at > timestamp '2024-10-01 06:00:00'",
        )
        == 0
    )
    if ROW_TIME[table]:
        assert one(con, f"select count(*) from {table} where _loaded_at < {ROW_TIME[table]}") == 0


# (description, sql returning a boolean that must be true): realistic, not just clean
REALISM = [
    (
        "duplicate deliveries ~0.3%",
        "select (count(*) - count(distinct event_id)) / count(*) "
        "between 0.001 and 0.006 from events",
    ),
    (
        "late events ~2%",
        "select count(*) filter (where received_at >= occurred_at + interval 1 day)"
        " / count(*) between 0.01 and 0.03 from events",
    ),
    (
        "logged-out ~5%",
        "select count(distinct session_id) filter (where user_id is null) / "
        "count(distinct session_id) between 0.03 and 0.07 from events",
    ),
    (
        "sessions cross midnight",
        "select count(*) > 0 from (select session_id from events "
        "group by 1 having min(occurred_at)::date <> max(occurred_at)::date)",
    ),
    ("all platforms", "select count(distinct platform) = 3 from events"),
    ("cancelled ~5%", "select avg((status = 'cancelled')::int) between 0.03 and 0.07 from orders"),
    (
        "refunds ~4% of live orders",
        "select (select count(*) from refunds) / count(*) between "
        "0.025 and 0.055 from orders where status <> 'cancelled'",
    ),
    (
        "refunds in a later month",
        "select count(*) > 0 from refunds r join orders o "
        "using (order_id) where date_trunc('month', r.refunded_at) > date_trunc('month', "
        "o.ordered_at)",
    ),
    (
        "partial and full refunds",
        "select count(distinct r.amount = t.n) = 2 from refunds r join "
        "(select order_id, sum(quantity * unit_price - discount_amount) n from order_items "
        "group by 1) t using (order_id)",
    ),
    ("failed payments", "select count(*) > 0 from payments where status = 'failed'"),
    ("cost periods change", "select count(*) > 0 from product_costs where valid_to is not null"),
    (
        "first cost period starts on or before start",
        "select bool_and(m <= date '2024-01-01') from "
        "(select min(valid_from) m from product_costs group by product_id)",
    ),
    (
        "one open cost period per product",
        "select bool_and(n = 1) from (select product_id, "
        "count(*) filter (where valid_to is null) n from product_costs group by 1)",
    ),
    ("test accounts ~1%", "select sum(is_test_account::int) between 1 and 30 from users"),
    (
        "test accounts have orders and events",
        "select (select count(*) from orders join users "
        "using (user_id) where is_test_account) > 0 and (select count(*) from events join users "
        "using (user_id) where is_test_account) > 0",
    ),
    ("deleted users ~3%", "select count(deleted_at) between 5 and 80 from users"),
    (
        "signups grow",
        "select count(*) filter (where signed_up_at >= '2024-07-01') > "
        "count(*) filter (where signed_up_at < '2024-03-31') from users",
    ),
    (
        "weekend lift in orders",
        "select avg(case when dayofweek(ordered_at) in (0, 6) then 1.0 "
        "else 0 end) > 2 / 7 from orders",
    ),
    (
        "USD most common, then EUR",
        "select list(currency order by n desc)[1:2] = ['USD', 'EUR'] "
        "from (select currency, count(*) n from orders group by 1)",
    ),
    ("all currencies", "select count(distinct currency) = 5 from orders"),
    (
        "three experiments",
        "select list(distinct experiment_id order by experiment_id) = "
        "['exp_checkout_redesign', 'exp_free_shipping_banner', 'exp_search_ranking_v2'] "
        "from experiment_assignments",
    ),
    (
        "experiments start on their day (60 days, 40%, 70% into the range)",
        "select bool_and(s >= d and s < d + interval 3 day) from (select experiment_id, "
        "min(assigned_at) s, case experiment_id when 'exp_checkout_redesign' then "
        "timestamp '2024-03-01' when 'exp_free_shipping_banner' then timestamp '2024-04-19' "
        "else timestamp '2024-07-10' end d from experiment_assignments group by 1)",
    ),
    (
        "search ranking has 3 variants",
        "select count(distinct variant) = 3 from "
        "experiment_assignments where experiment_id = 'exp_search_ranking_v2'",
    ),
    (
        "at most one product without category",
        "select count(*) <= 1 from products where category is null",
    ),
    ("some discounts", "select count(*) filter (where discount_amount > 0) > 0 from order_items"),
    (
        "lines per order ~2.5",
        "select count(*) / count(distinct order_id) between 2 and 3 from order_items",
    ),
]


@pytest.mark.parametrize(("what", "sql"), REALISM, ids=[w for w, _ in REALISM])
def test_realism(con, what, sql):
    assert one(con, sql) is True, what
