"""events/events: sessions of 2-20 events, generated one calendar month at a time.

A session starts with session_start and ends with session_end; its events are
spaced by a few seconds to minutes, so sessions that start just before midnight
cross into the next UTC day. Session starts are uniform within each user's life
(weekend lift), never before signup, and the whole session ends before deletion
and the end of the range. ~5% of sessions are logged out (user_id null).
Delivery: ~2% arrive 1-5 days late; ~0.3% are delivered twice (same event_id
and content, later received_at and _loaded_at); anything received after the
extraction time is dropped.

Each month has its own random generator (seed, month index), so months can be built
in any order and in parallel threads (:class:`EventMonths` ``workers``) with identical
results; they are always handed out in month order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .columns import (
    KEEP_RATE,
    ids,
    labels,
    timestamps,
    uniform_us,
    weekday_keep,
    with_nulls,
)
from .params import US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_SEC, Params, day_number
from .users import PLATFORMS, Users, user_ids

EVENTS_AT_SCALE_1 = 10_000_000
EVENT_NAMES = ("session_start", "screen_view", "search", "add_to_cart", "checkout", "session_end")
MIDDLE_WEIGHTS = (0.0, 0.6, 0.15, 0.15, 0.10, 0.0)
SESSION_EXTRA_N, SESSION_EXTRA_P = 18, 0.3  # length = 2 + Binomial(18, 0.3) in 2..20
MEAN_SESSION_LENGTH = 2 + SESSION_EXTRA_N * SESSION_EXTRA_P
LOGGED_OUT_SHARE = 0.05
LATE_SHARE = 0.02
DUPLICATE_SHARE = 0.003
NULL_PLATFORM = 0.001
MEAN_GAP_US = 40 * US_PER_SEC


@dataclass(frozen=True)
class Month:
    index: int
    start_us: int
    end_us: int  # exclusive
    label: str  # YYYYMM


@dataclass(frozen=True)
class MonthEvents:
    month: Month
    table: pa.Table  # the month's delivered events, clean (before any defect)
    active: np.ndarray  # its distinct (day, non-test user) keys, see active_keys


def months(p: Params) -> list[Month]:
    out: list[Month] = []
    d = p.start.replace(day=1)
    i = 0
    while d <= p.end:
        nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        lo = max(day_number(d), p.start_day) * US_PER_DAY
        hi = min(day_number(nxt) * US_PER_DAY, p.end_us + 1)
        out.append(Month(i, lo, hi, f"{d.year:04d}{d.month:02d}"))
        d, i = nxt, i + 1
    return out


def session_rate(p: Params, users: Users) -> np.ndarray:
    """Expected (pre-thinning) user sessions per day of life, per user."""
    target_sessions = p.count(EVENTS_AT_SCALE_1) / MEAN_SESSION_LENGTH * (1 - LOGGED_OUT_SHARE)
    weight = users.activity * users.alive_days
    rate: np.ndarray = users.activity * target_sessions / max(weight.sum(), 1e-9) / KEEP_RATE
    return rate


def build_month(p: Params, users: Users, rate: np.ndarray, m: Month) -> MonthEvents:
    rng = p.rng("events/events", m.index)
    # --- sessions: user ones, then logged-out ones ----------------------------------------
    lo = np.maximum(users.signup_us, m.start_us)
    hi = np.minimum(users.bound_us, m.end_us - 1)
    overlap = np.maximum(hi - lo, 0)
    per_user = rng.poisson(rate * overlap / US_PER_DAY)
    s_user = np.repeat(np.arange(len(per_user)), per_user)
    s_start = uniform_us(rng, lo[s_user], hi[s_user])
    n_anon = rng.poisson(len(s_user) * LOGGED_OUT_SHARE / (1 - LOGGED_OUT_SHARE))
    a_start = uniform_us(rng, np.full(n_anon, m.start_us), np.full(n_anon, m.end_us - 1))
    s_user = np.concatenate([s_user, np.full(n_anon, -1)])
    s_start = np.concatenate([s_start, a_start])
    keep = weekday_keep(rng, s_start)
    s_user, s_start = s_user[keep], s_start[keep]
    order = np.argsort(s_start, kind="stable")
    s_user, s_start = s_user[order], s_start[order]
    ns = len(s_start)
    s_bound = np.where(s_user >= 0, users.bound_us[np.maximum(s_user, 0)], p.end_us)
    s_platform = np.where(
        s_user >= 0,
        users.platform[np.maximum(s_user, 0)],
        rng.choice(len(PLATFORMS), ns, p=(0.4, 0.35, 0.25)),
    )
    s_platform_null = rng.random(ns) < NULL_PLATFORM  # per session: duplicates stay identical
    length = 2 + rng.binomial(SESSION_EXTRA_N, SESSION_EXTRA_P, ns)

    # --- events of each session -------------------------------------------------------------
    sidx = np.repeat(np.arange(ns), length)
    first = np.cumsum(length) - length
    pos = np.arange(len(sidx)) - np.repeat(first, length)
    gap = np.maximum(rng.exponential(MEAN_GAP_US, len(sidx)).astype(np.int64), US_PER_SEC // 5)
    gap[pos == 0] = 0
    csum = np.cumsum(gap)
    offset = csum - np.repeat(csum[first], length)
    occurred = s_start[sidx] + offset
    duration = offset[first + length - 1]
    s_ok = s_start + duration <= s_bound
    ok = s_ok[sidx]
    name = rng.choice(len(EVENT_NAMES), len(sidx), p=MIDDLE_WEIGHTS)
    name[pos == 0] = 0
    name[pos == np.repeat(length, length) - 1] = 5
    sidx, occurred, name = sidx[ok], occurred[ok], name[ok]
    del first, pos, gap, csum, offset, ok  # event-sized: free them as soon as they are used
    ne = len(sidx)
    ev_num = np.arange(ne)

    # --- delivery ----------------------------------------------------------------------------
    late = rng.random(ne) < LATE_SHARE
    received = occurred + np.where(
        late,
        rng.integers(US_PER_DAY, 5 * US_PER_DAY, ne),
        (rng.exponential(3 * US_PER_SEC, ne)).astype(np.int64) + 100_000,
    )
    loaded = received + rng.integers(US_PER_MIN, 2 * US_PER_HOUR, ne)
    dup = np.flatnonzero(rng.random(ne) < DUPLICATE_SHARE)
    shift = rng.integers(US_PER_MIN, 6 * US_PER_HOUR, len(dup))
    rows = np.concatenate([np.arange(ne), dup])
    received = np.concatenate([received, received[dup] + shift])
    loaded = np.concatenate([loaded, loaded[dup] + shift])
    is_dup = np.concatenate([np.zeros(ne, bool), np.ones(len(dup), bool)])
    delivered = received <= p.extraction_us
    loaded = np.minimum(loaded, p.extraction_us)
    delivered &= ~is_dup | (loaded > received)  # a duplicate must land after its original
    rows, received, loaded = rows[delivered], received[delivered], loaded[delivered]
    srt = np.argsort(received, kind="stable")
    rows, received, loaded = rows[srt], received[srt], loaded[srt]
    del late, dup, shift, is_dup, delivered, srt

    ev_sess = sidx[rows]
    ev_user = s_user[ev_sess]
    user_id = with_nulls(user_ids(np.maximum(ev_user, 0)), ev_user < 0)
    table = pa.table(
        {
            "event_id": ids(f"e_{m.label}_", ev_num[rows], 8),
            "user_id": user_id,
            "session_id": ids(f"s_{m.label}_", ev_sess, 7),
            "event_name": labels(EVENT_NAMES, name[rows]),
            "occurred_at": timestamps(occurred[rows]),
            "received_at": timestamps(received),
            "platform": labels(PLATFORMS, s_platform[ev_sess], s_platform_null[ev_sess]),
            "_loaded_at": timestamps(loaded),
        }
    )
    day = occurred[rows] // US_PER_DAY
    return MonthEvents(m, table, active_keys(day, ev_user, users.is_test))


def active_keys(day: np.ndarray, user: np.ndarray, is_test: np.ndarray) -> np.ndarray:
    """Sorted distinct ``day * len(is_test) + user`` over events of non-test users (``user`` is
    an index into the users, < 0 when logged out; ``day`` counts from the epoch)."""
    n = len(is_test)
    keep = user >= 0
    keep[keep] = ~is_test[user[keep]]
    d, u = day[keep].astype(np.int64), user[keep].astype(np.int64)
    if not len(d):
        return np.zeros(0, dtype=np.int64)
    first = int(d.min())
    span = int(d.max()) - first + 1
    if span * n > 1 << 28:  # not one month's worth: no bitmap
        return np.unique(d * n + u)
    seen = np.zeros(span * n, dtype=bool)
    seen[(d - first) * n + u] = True
    return np.flatnonzero(seen) + first * n


class EventMonths:
    """The event months in month order (iterate once); built in ``workers`` threads when > 1,
    which start at once and stay up to ``workers`` months ahead of the reader. numpy and
    Arrow do the work with the GIL released; each month has its own random generator, so
    the results do not depend on the threads. Use as a context manager (stops the threads).

    Threads rather than processes: worker processes cost ~45% more CPU at scale 3 (handing
    the months over, faulting in fresh memory) and ~1.6 GB more memory each at scale 10."""

    def __init__(self, p: Params, users: Users, workers: int = 1) -> None:
        self.p, self.users = p, users
        self.rate = session_rate(p, users)
        self.todo = deque(months(p))
        self.pending: deque[Future[MonthEvents]] = deque()
        self.pool: ThreadPoolExecutor | None = None
        self.ahead = workers
        if workers > 1 and len(self.todo) > 1:
            self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="events")
            self._submit()

    def _submit(self) -> None:
        assert self.pool is not None
        while self.todo and len(self.pending) < self.ahead:
            self.pending.append(self.pool.submit(self._build, self.todo.popleft()))

    def _build(self, m: Month) -> MonthEvents:
        _lower_priority()
        return build_month(self.p, self.users, self.rate, m)

    def __iter__(self) -> Iterator[MonthEvents]:
        if self.pool is None:
            while self.todo:
                yield build_month(self.p, self.users, self.rate, self.todo.popleft())
            return
        while self.pending:
            month = self.pending.popleft().result()
            self._submit()
            yield month

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> EventMonths:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_events(p: Params, users: Users, workers: int = 1) -> Iterator[MonthEvents]:
    """The months in order (see :class:`EventMonths`)."""
    with EventMonths(p, users, workers) as months_:
        yield from months_


WORKER_NICE = 10


def _lower_priority() -> None:
    """The reader writes the months in order and is the bottleneck: on Linux a thread is a
    task with its own nice value, so the builder threads yield to it when CPUs are short."""
    with contextlib.suppress(OSError, AttributeError):
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < WORKER_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICE)
