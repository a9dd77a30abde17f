"""The clickstream split into a lake's deliveries, for the incremental tests.

One file with everything received up to day D, then one file per following
day, each holding that day's receipts; the day files carry late deliveries
(received in the last two hours of a day, landed in the next day's file),
redeliveries of events already loaded, and one earlier delivery of events
already stored. The DuckDB and the Spark incremental tests use the same split.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

# both datasets end 2024-09-30: day D and three day files after it
DAY_D = dt.date(2024, 9, 26)
DAY_FILES = 3
# what the daily runs build and compare with a full refresh: the growth and
# engagement marts, and the incremental models under them
MARTS = [
    "growth.fct_active_users_daily",
    "growth.fct_growth_monthly",
    "engagement.fct_engagement_monthly",
    "growth.fct_experiment_growth_daily",
]
INCREMENTAL = [
    "staging.stg_events__events",
    "intermediate.int_events_aggregated_to_user_days",
    "intermediate.int_events_sessionized",
    "intermediate.int_events_completeness_monthly",
]
# the marts and everything upstream of them; no tests in the daily runs
SELECT = ["--select", *(f"+{name.split('.')[1]}" for name in MARTS)]
NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]
# the event models' tests, run once on the result of the daily runs
EVENT_MODELS_TESTED = [
    "stg_events__events",
    "int_events_aggregated_to_user_days",
    "int_events_sessionized",
]


def split_deliveries(source: Path, events_dir: Path, day_d: dt.date, day_files: int) -> None:
    """Write events.parquet (received <= day_d) and events-<day>.parquet per later day."""
    con = duckdb.connect()
    con.execute(
        f"""
        create table delivery as
        select
            *,
            cast(received_at as date) as received_date,
            cast(received_at as date) as file_date
        from read_parquet('{source}')
        """
    )
    d = f"date '{day_d}'"
    # received in the last two hours of a day, landed in the next day's file
    con.execute(
        f"""
        update delivery set file_date = file_date + 1
        where received_date between {d} and {d} + {day_files - 1}
          and hour(received_at) >= 22
        """
    )
    # redeliveries: events loaded earlier, delivered again on the next days
    for k in range(1, day_files + 1):
        con.execute(
            f"""
            insert into delivery by name
            select
                * exclude (received_at, _loaded_at, received_date, file_date),
                cast({d} + {k} as timestamp) + interval 12 hour as received_at,
                cast({d} + {k} as timestamp) + interval 13 hour as _loaded_at,
                {d} + {k} as received_date,
                {d} + {k} as file_date
            from delivery
            where received_date < {d}
            using sample 25 rows (reservoir, {k})
            """
        )
    # an earlier delivery of events stored from the first file, arriving in D+1
    con.execute(
        f"""
        insert into delivery by name
        select
            * exclude (received_at, _loaded_at, received_date, file_date),
            received_at - interval 30 minute as received_at,
            _loaded_at - interval 30 minute as _loaded_at,
            received_date,
            {d} + 1 as file_date
        from delivery
        where file_date = {d} and received_date = {d} and hour(received_at) between 1 and 21
        using sample 10 rows (reservoir, 42)
        """
    )
    last = con.execute("select max(file_date) from delivery").fetchone()[0]
    events_dir.mkdir(parents=True, exist_ok=True)
    columns = "* exclude (received_date, file_date)"
    con.execute(
        f"copy (select {columns} from delivery where file_date <= {d} order by received_at) "
        f"to '{events_dir / 'events.parquet'}' (format parquet)"
    )
    for k in range(1, day_files + 1):
        # the last file also takes whatever was received after D+3
        upper = f"'{last}'" if k == day_files else f"{d} + {k}"
        con.execute(
            f"copy (select {columns} from delivery "
            f"where file_date > {d} + {k - 1} and file_date <= {upper} order by received_at) "
            f"to '{events_dir / f'events-{day_d + dt.timedelta(days=k)}.parquet'}' "
            "(format parquet)"
        )
    con.close()
