"""Refunds keep their 1-60 day delay up to the end of the range: none are squeezed in.

A refund that would land after the end date does not exist yet, so the share
of refunds to orders in the last two weeks is no higher than before (it was
about five times higher when delays were squeezed into the time left).
"""

from __future__ import annotations

import duckdb


def test_the_last_weeks_carry_no_extra_refunds(con: duckdb.DuckDBPyConnection) -> None:
    last_day = con.sql("select max(cast(ordered_at as date)) from orders").fetchone()
    assert last_day is not None
    (rate_end, rate_before) = con.execute(
        """
        with days as (
            select cast(? as date) as last_day
        ),
        refunds_by_window as (
            select
                count(*) filter (where cast(refunded_at as date) > last_day - 14) as late,
                count(*) filter (
                    where cast(refunded_at as date) between last_day - 74 and last_day - 14
                ) as before
            from refunds, days
        ),
        orders_by_window as (
            select
                count(*) filter (where cast(ordered_at as date) > last_day - 14) as late,
                count(*) filter (
                    where cast(ordered_at as date) between last_day - 74 and last_day - 14
                ) as before
            from orders, days
        )
        select r.late / o.late, r.before / o.before
        from refunds_by_window r, orders_by_window o
        """,
        [last_day[0]],
    ).fetchone() or (None, None)
    assert rate_before and rate_before > 0
    assert rate_end < 1.25 * rate_before, (rate_end, rate_before)


def test_every_refund_is_one_to_sixty_days_after_its_order(con: duckdb.DuckDBPyConnection) -> None:
    (early, late) = con.sql(
        """
        select
            count(*) filter (where r.refunded_at < o.ordered_at + interval 1 day),
            count(*) filter (where r.refunded_at > o.ordered_at + interval 60 day)
        from refunds r join orders o using (order_id)
        """
    ).fetchone() or (None, None)
    assert (early, late) == (0, 0)
