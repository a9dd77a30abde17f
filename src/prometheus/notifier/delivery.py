"""Delivery from the outbox: intent before sending, outcome after, bounded in time.

- Every run's messages are rendered into the outbox (``incidents.Store``) in the
  same transaction as the incident events that caused them, before anything is
  sent. Then each pending outbox row is **claimed** (an ``intent`` attempt, written
  atomically; a row already sent, or held by a live notifier, is skipped), sent,
  and its outcome recorded (``sent``, ``failed``, ``fallback``). A notifier killed
  after its intent leaves a stale claim the next run takes over.
- HTTP (Slack, webhooks, PagerDuty): bounded attempts with exponential backoff on
  connection errors, time-outs, 5xx and 429 (honouring ``Retry-After``, capped);
  other 4xx fail at once. SMTP: 4xx replies and dropped connections retry, 5xx not.
- An overall ``Deadline`` per run: every request's time-out and every wait is cut
  to what is left, and destinations are served in parallel, so one hanging
  destination cannot hold the others.
- A destination that stays down gets the message in the fallback file (once) and
  the row stays pending: the next run retries it.
"""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from prometheus.notifier.channels import Destination
    from prometheus.notifier.incidents import OutboxRow, Store

EXIT_OK = 0
EXIT_FALLBACK = 3  # some message reached only the fallback channel
EXIT_UNDELIVERED = 4  # some message reached nobody

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class DeliveryError(Exception):
    """A destination did not take the message (after retries). Its text is redacted."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # requests per message and destination, first one included
    timeout: float = 10.0  # seconds, connect and read each
    backoff: float = 0.5  # seconds; doubles per retry
    backoff_max: float = 8.0
    retry_after_max: float = 30.0  # never wait longer than this for a Retry-After

    def delay(self, attempt: int) -> float:
        return float(min(self.backoff * 2**attempt, self.backoff_max))

    def delays(self) -> list[float]:
        return [self.delay(i) for i in range(self.attempts - 1)]


@dataclass
class Deadline:
    """The run's overall deadline (monotonic)."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def timeout(self, wanted: float) -> float:
        left = self.remaining()
        if left <= 0:
            raise DeliveryError(f"run deadline of {self.seconds:g} s reached")
        return min(wanted, left)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self.remaining())))


def _retry_after(value: str | None, cap: float) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, cap))


def post_json(
    session: requests.Session,
    url: str,
    payload: Any,
    policy: RetryPolicy,
    deadline: Deadline,
    headers: Mapping[str, str] | None = None,
) -> None:
    """POST with bounded retries inside the deadline; DeliveryError (without the
    URL) if it fails."""
    last = ""
    for attempt in range(policy.attempts):
        timeout = deadline.timeout(policy.timeout)
        wait = policy.delay(attempt)
        try:
            response = session.post(url, json=payload, headers=dict(headers or {}), timeout=timeout)
        except requests.RequestException as exc:
            last = type(exc).__name__
        else:
            if response.status_code < 300:
                return
            last = f"HTTP {response.status_code}"
            if response.status_code not in RETRY_STATUSES:
                raise DeliveryError(f"{last} (not retried)")
            after = _retry_after(response.headers.get("Retry-After"), policy.retry_after_max)
            if after is not None:
                wait = after
        if attempt == policy.attempts - 1:
            break
        if deadline.remaining() <= wait:
            raise DeliveryError(f"{last}; run deadline of {deadline.seconds:g} s reached")
        deadline.sleep(wait)
    raise DeliveryError(f"{last} after {policy.attempts} attempt(s)")


SMTP_TRANSIENT: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def with_retries(
    action: Callable[[], None],
    policy: RetryPolicy,
    deadline: Deadline | None = None,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Run ``action`` up to ``policy.attempts`` times (SMTP). 4xx replies and
    connection problems retry; anything else fails at once."""
    deadline = deadline or Deadline(3600)
    pause = sleep or deadline.sleep
    for attempt in range(policy.attempts):
        try:
            action()
            return
        except smtplib.SMTPResponseException as exc:
            if not 400 <= exc.smtp_code < 500 or attempt == policy.attempts - 1:
                raise DeliveryError(
                    f"SMTP {exc.smtp_code} after {attempt + 1} attempt(s)"
                ) from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("SMTP recipients refused") from None
        except SMTP_TRANSIENT as exc:
            if attempt == policy.attempts - 1:
                raise DeliveryError(
                    f"{type(exc).__name__} after {attempt + 1} attempt(s)"
                ) from None
        if deadline.remaining() <= policy.delay(attempt):
            raise DeliveryError(f"run deadline of {deadline.seconds:g} s reached")
        pause(policy.delay(attempt))


@dataclass(frozen=True)
class Outcome:
    message_key: str
    team: str
    destination: str
    status: str  # sent | skipped | fallback | failed
    detail: str = ""


def deliver(
    store: Store,
    rows: Iterable[OutboxRow],
    destinations: Mapping[str, Destination],
    fallback: Callable[[Destination], Destination] | None,
    deadline: Deadline,
    redact: Callable[[str], str],
    say: Callable[[str], None],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    workers: int = 4,
) -> list[Outcome]:
    """Send every pending outbox row whose destination this run has; rows of one
    destination in order, destinations in parallel."""
    by_dest: dict[str, list[OutboxRow]] = {}
    for row in rows:
        if row.destination in destinations:
            by_dest.setdefault(row.destination, []).append(row)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    lease = timedelta(seconds=max(deadline.seconds, 1.0))

    def serve(name: str) -> None:
        dest = destinations[name]
        for row in by_dest[name]:
            outcome = _one(store, row, dest, fallback, deadline, lease, redact, say, now)
            with lock:
                outcomes.append(outcome)

    if by_dest:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(by_dest)))) as pool:
            for future in [pool.submit(serve, name) for name in sorted(by_dest)]:
                future.result()
    return sorted(outcomes, key=lambda o: (o.destination, o.message_key))


def _one(
    store: Store,
    row: OutboxRow,
    dest: Destination,
    fallback: Callable[[Destination], Destination] | None,
    deadline: Deadline,
    lease: timedelta,
    redact: Callable[[str], str],
    say: Callable[[str], None],
    now: Callable[[], datetime],
) -> Outcome:
    key = row.message_key
    if not store.claim(row.id, lease, now()):
        say(f"skipped {key} -> {dest.describe}: sent already or being sent by another notifier")
        return Outcome(key, row.team, dest.name, "skipped", "claimed elsewhere")
    try:
        dest.send(key, row.payload, deadline)
    except DeliveryError as exc:
        error = redact(str(exc))
        store.record(row.id, "failed", now(), error)
        say(f"FAILED {key} -> {dest.describe}: {error}")
        if fallback is None:
            return Outcome(key, row.team, dest.name, "failed", error)
        spare = fallback(dest)
        if store.fell_back(row.id):
            say(f"{key} -> {spare.describe}: already in the fallback")
            return Outcome(key, row.team, dest.name, "fallback", error)
        try:
            spare.send(key, row.payload, deadline)
        except DeliveryError as exc2:
            say(f"FAILED {key} -> fallback {spare.describe}: {redact(str(exc2))}")
            return Outcome(key, row.team, dest.name, "failed", error)
        store.record(row.id, "fallback", now(), error)
        say(f"fell back {key} -> {spare.describe}")
        return Outcome(key, row.team, dest.name, "fallback", error)
    store.record(row.id, "sent", now())
    say(f"sent {key} -> {dest.describe}")
    return Outcome(key, row.team, dest.name, "sent")


def exit_code(outcomes: Iterable[Outcome]) -> int:
    statuses = {o.status for o in outcomes}
    if "failed" in statuses:
        return EXIT_UNDELIVERED
    if "fallback" in statuses:
        return EXIT_FALLBACK
    return EXIT_OK
