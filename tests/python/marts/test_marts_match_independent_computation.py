"""The public marts, checked against an independent computation in Python.

pandas and Python's Decimal recompute net revenue, gross profit, DAU, MAU
and sessions from the raw Parquet files, following the metric definitions
of the raw contract, without any of the project's SQL.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pandas as pd
import pytest

CENT = Decimal("0.01")


def usd(value: Decimal) -> Decimal:
    # half away from zero, as the contract states
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def read(build, system: str, table: str) -> pd.DataFrame:
    return pd.read_parquet(build.raw_dir / system / f"{table}.parquet")


def mart(build, sql: str) -> pd.DataFrame:
    # fetchall keeps DECIMAL as Decimal (a DataFrame would turn it into float)
    with duckdb.connect(str(build.duckdb_path), read_only=True) as con:
        relation = con.sql(sql)
        return pd.DataFrame(relation.fetchall(), columns=relation.columns)


def month_of(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.to_period("M").dt.to_timestamp()


@pytest.fixture(scope="module")
def build(clean_build):
    assert clean_build.returncode == 0, clean_build.output[-4000:]
    return clean_build


@pytest.fixture(scope="module")
def non_test_users(build) -> pd.DataFrame:
    users = read(build, "app", "users")
    return users[~users["is_test_account"]]


@pytest.fixture(scope="module")
def profit_lines(build, non_test_users) -> pd.DataFrame:
    orders = read(build, "app", "orders")
    items = read(build, "app", "order_items")
    fx = read(build, "finance", "fx_rates")
    costs = read(build, "finance", "product_costs")
    orders = orders[
        (orders["status"] != "cancelled") & orders["user_id"].isin(non_test_users["user_id"])
    ]
    orders = orders.assign(ordered_date=pd.to_datetime(orders["ordered_at"]).dt.normalize())
    fx = fx.assign(rate_date=pd.to_datetime(fx["rate_date"]))
    lines = items.merge(orders[["order_id", "ordered_date", "currency"]], on="order_id")
    lines = lines.merge(
        fx, left_on=["ordered_date", "currency"], right_on=["rate_date", "currency"]
    )
    lines["net_local"] = [
        Decimal(q) * p - d
        for q, p, d in zip(
            lines["quantity"], lines["unit_price"], lines["discount_amount"], strict=True
        )
    ]
    lines["net_revenue_usd"] = [
        usd(n * r) for n, r in zip(lines["net_local"], lines["usd_per_unit"], strict=True)
    ]
    costs = costs.assign(
        valid_from=pd.to_datetime(costs["valid_from"]),
        valid_to=pd.to_datetime(costs["valid_to"]).fillna(pd.Timestamp("2100-01-01")),
    )
    with_cost = lines.merge(costs, on="product_id")
    with_cost = with_cost[
        (with_cost["valid_from"] <= with_cost["ordered_date"])
        & (with_cost["ordered_date"] < with_cost["valid_to"])
    ]
    assert len(with_cost) == len(lines), "every line has exactly one cost period"
    with_cost["cogs_usd"] = [
        usd(Decimal(q) * c)
        for q, c in zip(with_cost["quantity"], with_cost["unit_cost_usd"], strict=True)
    ]
    with_cost["month"] = month_of(with_cost["ordered_date"])
    return with_cost


@pytest.fixture(scope="module")
def refunds_by_month(build, profit_lines) -> pd.Series:
    refunds = read(build, "app", "refunds")
    fx = read(build, "finance", "fx_rates").assign(
        rate_date=lambda f: pd.to_datetime(f["rate_date"])
    )
    refunds = refunds.assign(refunded_date=pd.to_datetime(refunds["refunded_at"]).dt.normalize())
    order_net = profit_lines.groupby("order_id")["net_local"].apply(lambda s: sum(s, Decimal(0)))
    shares = profit_lines[["order_id", "net_local", "currency"]].join(
        order_net.rename("order_net"), on="order_id"
    )
    allocated = refunds.merge(shares, on="order_id").merge(
        fx, left_on=["refunded_date", "currency"], right_on=["rate_date", "currency"]
    )
    allocated["refund_usd"] = [
        usd(a * r * n / o)
        for a, r, n, o in zip(
            allocated["amount"],
            allocated["usd_per_unit"],
            allocated["net_local"],
            allocated["order_net"],
            strict=True,
        )
    ]
    allocated["month"] = month_of(allocated["refunded_date"])
    return allocated.groupby("month")["refund_usd"].apply(lambda s: sum(s, Decimal(0)))


def test_monthly_net_revenue_matches_to_the_cent(build, profit_lines):
    expected = profit_lines.groupby("month")["net_revenue_usd"].apply(lambda s: sum(s, Decimal(0)))
    actual = mart(build, "select month, net_revenue_usd from profit.fct_profit_monthly").set_index(
        "month"
    )
    actual.index = pd.to_datetime(actual.index)
    assert len(expected) >= 9
    for month, value in expected.items():
        assert actual.loc[month, "net_revenue_usd"] == value, month


def test_monthly_gross_profit_matches(build, profit_lines, refunds_by_month):
    revenue = profit_lines.groupby("month")["net_revenue_usd"].apply(lambda s: sum(s, Decimal(0)))
    cogs = profit_lines.groupby("month")["cogs_usd"].apply(lambda s: sum(s, Decimal(0)))
    assert refunds_by_month.sum() > 0, "the dataset has refunds"
    actual = mart(build, "select month, gross_profit_usd from profit.fct_profit_monthly").set_index(
        "month"
    )
    actual.index = pd.to_datetime(actual.index)
    for month in revenue.index:
        expected = revenue[month] - cogs[month] - refunds_by_month.get(month, Decimal(0))
        # refund shares are split with a float share in SQL: allow a few cents
        assert abs(actual.loc[month, "gross_profit_usd"] - expected) <= Decimal("0.05"), month


@pytest.fixture(scope="module")
def user_events(build, non_test_users) -> pd.DataFrame:
    events = read(build, "events", "events").drop_duplicates("event_id")
    events = events[events["user_id"].isin(non_test_users["user_id"])]
    return events.assign(activity_date=pd.to_datetime(events["occurred_at"]).dt.normalize())


def by_day(series: pd.Series) -> dict[str, int]:
    return {pd.Timestamp(k).strftime("%Y-%m-%d"): int(v) for k, v in series.items()}


def test_dau_matches_every_day_including_zero_days(build, user_events):
    expected = user_events.groupby("activity_date")["user_id"].nunique()
    days = pd.date_range(expected.index.min(), expected.index.max(), freq="D")
    actual = mart(
        build, "select activity_date, active_users from growth.fct_active_users_daily order by 1"
    )
    # one row per day from the first to the last day of data, zero where none
    assert by_day(actual.set_index("activity_date")["active_users"]) == by_day(
        expected.reindex(days, fill_value=0)
    )


def test_mau_matches(build, user_events):
    expected = user_events.groupby(month_of(user_events["activity_date"]))["user_id"].nunique()
    actual = mart(
        build, "select month, monthly_active_users from growth.fct_growth_monthly order by 1"
    )
    assert len(expected) >= 9
    assert by_day(actual.set_index("month")["monthly_active_users"]) == by_day(expected)


def test_sessions_match(build, user_events):
    sessions = user_events.groupby("session_id").agg(
        started_at=("occurred_at", "min"),
        ended_at=("occurred_at", "max"),
        events=("event_id", "count"),
    )
    sessions["month"] = month_of(sessions["started_at"])
    sessions["minutes"] = (sessions["ended_at"] - sessions["started_at"]).dt.total_seconds() / 60
    expected = sessions.groupby("month").agg(
        sessions=("events", "size"), events=("events", "sum"), minutes=("minutes", "mean")
    )
    actual = mart(
        build,
        "select month, sessions, events_per_session, avg_session_minutes"
        " from engagement.fct_engagement_monthly",
    ).set_index("month")
    actual.index = pd.to_datetime(actual.index)
    assert (expected["sessions"] > 0).all()
    for month, row in expected.iterrows():
        assert actual.loc[month, "sessions"] == row["sessions"], month
        assert actual.loc[month, "events_per_session"] == pytest.approx(
            row["events"] / row["sessions"]
        ), month
        # lengths are measured to the millisecond in SQL
        assert actual.loc[month, "avg_session_minutes"] == pytest.approx(
            row["minutes"], rel=1e-4
        ), month
