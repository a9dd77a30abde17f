"""Orchestration: build the clean tables, derive finance/analytics, apply defects, write.

Order: users, catalog, fx, orders, experiments (in memory) -> events streamed month by
month into the temporary output (built in ``workers`` threads, written in month order;
active-user pairs collected on the way) -> ledger and filings in DuckDB, active_user_counts
from the pairs -> defects -> write everything -> swap in.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

import pyarrow as pa

from . import GENERATOR_VERSION
from .catalog import build_catalog
from .contract import TABLES
from .defects import apply_events, apply_tables, resolve, schema_changes
from .events import EventMonths, months
from .experiments import build_assignments
from .fx import build_fx
from .ledger import ActiveUsers, build_ledger
from .orders import build_orders
from .params import Params
from .users import Users, build_users
from .writer import AtomicOutput, write_parquet

EVENTS_KEY = "events/events"


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt  # noqa: B018 - glibc only
        return libc
    except (OSError, AttributeError):
        return None


M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8


@contextlib.contextmanager
def reuse_freed_memory() -> Iterator[None]:
    """glibc: serve even large arrays from one heap and keep what is freed, so that each
    event month reuses the last one's memory instead of faulting in fresh pages (at scale
    10 a month's arrays are 40-200 MB, above glibc's mmap threshold; fresh pages cost more
    system time than the month's numpy work when the machine's memory is full of cache:
    -30% CPU on the last 3 months). Defaults are restored, and the heap trimmed, after."""
    libc = _libc()
    if libc is None:
        yield
        return
    libc.mallopt(M_ARENA_MAX, 1)  # builder threads too: no mmap'd arenas, which could not grow
    libc.mallopt(M_MMAP_MAX, 0)
    libc.mallopt(M_TRIM_THRESHOLD, 1 << 40)
    try:
        yield
    finally:
        libc.mallopt(M_MMAP_MAX, 65536)
        libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024)
        libc.malloc_trim(0)


def release_memory() -> None:
    """Hand freed memory back to the system (Arrow's pool, glibc's heap): the builds leave
    GBs of it at scale 10 that would otherwise count against the event workers' room."""
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def default_workers() -> int:
    """Threads building event months: min(2, CPUs) less the CPUs other jobs keep busy (the
    1-minute load average). On a shared 2-core machine a second builder only adds work
    (~15% more CPU) when there is no idle core for it."""
    cpus = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(2, cpus - int(busy + 0.5)))


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its children that ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Progress:
    """One line per step on ``stream``: rows, wall seconds, CPU seconds (all threads) and the
    time since the generator started; the long event phase also reports each month."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.t0 = time.perf_counter()
        self.cpu0 = self.cpu = cpu_seconds()

    def timed(self, key: str, fn: Callable[[], pa.Table]) -> pa.Table:
        t = time.perf_counter()
        table = fn()
        self.line(key, table.num_rows, time.perf_counter() - t)
        return table

    def line(self, key: str, rows: int, seconds: float, since_start: bool = False) -> None:
        """``since_start``: CPU since the start, else since the previous line."""
        if self.stream is not None:
            now = cpu_seconds()
            cpu = now - (self.cpu0 if since_start else self.cpu)
            self.cpu = now
            elapsed = time.perf_counter() - self.t0
            print(
                f"generate: {key:<34} {rows:>12,} rows {seconds:7.2f}s  cpu {cpu:6.2f}s"
                f"  (elapsed {elapsed:.1f}s)",
                file=self.stream,
                flush=True,
            )

    def month(self, key: str, label: str, done: int, total: int, rows: int) -> None:
        """A progress line inside a long step: ``done`` of ``total`` months written."""
        if self.stream is not None:
            elapsed = time.perf_counter() - self.t0
            print(
                f"generate: {key} month {label[:4]}-{label[4:]} ({done}/{total}), "
                f"{rows:,} rows so far (elapsed {elapsed:.1f}s)",
                file=self.stream,
                flush=True,
            )


def build_memory_tables(p: Params, progress: Progress) -> tuple[Users, dict[str, pa.Table]]:
    users = timed_users(p, progress)
    return users, build_other_tables(p, users, progress)


def timed_users(p: Params, progress: Progress) -> Users:
    t = time.perf_counter()
    users = build_users(p)
    progress.line("app/users", users.table.num_rows, time.perf_counter() - t)
    return users


def build_other_tables(p: Params, users: Users, progress: Progress) -> dict[str, pa.Table]:
    """Every in-memory table (users included) but the derived finance/analytics ones."""
    t = time.perf_counter()
    catalog = build_catalog(p)
    progress.line("app/products", catalog.products.num_rows, time.perf_counter() - t)
    fx_table, _ = build_fx(p)
    t = time.perf_counter()
    ot = build_orders(p, users, catalog)
    progress.line(
        "app/orders (+items, payments, refunds)", ot.orders.num_rows, time.perf_counter() - t
    )
    tables: dict[str, pa.Table] = {
        "app/users": users.table,
        "app/orders": ot.orders,
        "app/order_items": ot.order_items,
        "app/products": catalog.products,
        "app/payments": ot.payments,
        "app/refunds": ot.refunds,
        "app/experiment_assignments": progress.timed(
            "app/experiment_assignments", lambda: build_assignments(p, users)
        ),
        "finance/fx_rates": fx_table,
        "finance/product_costs": catalog.product_costs,
    }
    return tables


def generate(
    p: Params, out: Path, stderr: TextIO | None = sys.stderr, workers: int | None = None
) -> dict[str, object]:
    """Write all contract tables below ``out`` atomically; return the _generation.json data.

    ``workers``: threads building event months and writing the other tables
    (default :func:`default_workers`); the output does not depend on it."""
    workers = default_workers() if workers is None else workers
    defects = resolve(p.defects)
    progress = Progress(stderr)
    counts: dict[str, int] = {}
    with AtomicOutput(out) as w:
        users = timed_users(p, progress)
        active = ActiveUsers(users.table.num_rows)
        events = w.stream(EVENTS_KEY)
        try:
            # the workers start on the first months while the other tables are built
            with EventMonths(p, users, workers) as event_months:
                tables = build_other_tables(p, users, progress)
                release_memory()
                t = time.perf_counter()
                total = len(months(p))
                with reuse_freed_memory():
                    for done, month in enumerate(event_months, start=1):
                        active.add(month.active)
                        events.write(apply_events(month.table, month.month.index, defects, p))
                        progress.month(EVENTS_KEY, month.month.label, done, total, events.rows)
                        del month
        finally:
            events.close()
        progress.line(EVENTS_KEY, events.rows, time.perf_counter() - t)
        counts[EVENTS_KEY] = events.rows
        t = time.perf_counter()
        ledger, filings = build_ledger(p, tables, w.scratch())
        tables["finance/ledger_entries"] = ledger
        tables["finance/filings"] = filings
        tables["analytics/active_user_counts"] = active.table(p)
        del active
        release_memory()
        progress.line(
            "finance/ledger_entries (+filings, active users)",
            ledger.num_rows,
            time.perf_counter() - t,
        )
        tables = apply_tables(tables, defects, p)
        relaxed = schema_changes(defects)
        t = time.perf_counter()

        def write(key: str) -> None:
            if key in relaxed:  # a schema-change defect: not held to the contract
                write_parquet(tables[key].replace_schema_metadata(None), w.path(key))
            else:
                w.write(key, tables[key])

        # the largest first, over up to `workers` threads (Arrow writes without the GIL)
        keys = [s.key for s in TABLES if s.key != EVENTS_KEY]
        keys.sort(key=lambda k: -tables[k].nbytes)
        with ThreadPoolExecutor(max_workers=max(1, min(workers, 2))) as pool:
            list(pool.map(write, keys))
        counts.update({key: tables[key].num_rows for key in keys})
        meta: dict[str, object] = {
            "generator_version": GENERATOR_VERSION,
            "arguments": p.as_dict(),
            "extraction_time": p.extraction_time.isoformat(),
            "row_counts": {spec.key: counts[spec.key] for spec in TABLES},
        }
        w.write_json("_generation.json", meta)
        progress.line(
            "write other tables", sum(counts.values()) - events.rows, time.perf_counter() - t
        )
    progress.line("total", sum(counts.values()), time.perf_counter() - progress.t0, True)
    return meta
