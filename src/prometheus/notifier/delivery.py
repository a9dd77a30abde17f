"""Reliable delivery: timeouts, bounded retries with backoff, fallback, exit codes.

- HTTP (Slack, webhooks): ``requests`` with urllib3's ``Retry`` mounted on the
  session: retries on connection errors, read time-outs, 5xx and 429, with
  exponential backoff, honouring ``Retry-After`` (capped), at most
  ``RetryPolicy.attempts`` requests per message and destination.
- SMTP: the same policy in a small loop (4xx replies and dropped connections
  retry, 5xx replies do not).
- A destination that stays down gets the message on the fallback channel (a
  JSON-lines file by default) and the run exits with ``EXIT_FALLBACK``; if even
  the fallback fails, ``EXIT_UNDELIVERED``.
- The sent-log (``state``) is saved after every delivery, so a crash halfway
  through a run never makes the next run send a delivered message again.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from prometheus.notifier.routing import Message
from prometheus.notifier.state import SentLog

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

    def delays(self) -> list[float]:
        """Sleeps between SMTP attempts (HTTP uses urllib3's own schedule)."""
        return [min(self.backoff * 2**i, self.backoff_max) for i in range(self.attempts - 1)]


def http_session(policy: RetryPolicy) -> requests.Session:
    retries = policy.attempts - 1
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        redirect=0,
        allowed_methods=None,  # POST too: receivers get an Idempotency-Key to dedupe
        status_forcelist=sorted(RETRY_STATUSES),
        backoff_factor=policy.backoff,
        backoff_max=policy.backoff_max,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        retry_after_max=int(policy.retry_after_max),  # a server cannot stall us
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def post_json(
    session: requests.Session,
    url: str,
    payload: Mapping[str, Any],
    policy: RetryPolicy,
    headers: Mapping[str, str] | None = None,
) -> None:
    """POST with the session's retries; DeliveryError (without the URL) if it fails."""
    try:
        response = session.post(
            url, json=payload, headers=dict(headers or {}), timeout=policy.timeout
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"{type(exc).__name__} after {policy.attempts} attempt(s)") from None
    if response.status_code >= 300:
        raise DeliveryError(f"HTTP {response.status_code} after retries")


SMTP_TRANSIENT: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def with_retries(
    action: Callable[[], None], policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Run ``action`` up to ``policy.attempts`` times (SMTP). 4xx replies and
    connection problems retry; anything else fails at once."""
    delays = policy.delays()
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
        sleep(delays[attempt])


@dataclass(frozen=True)
class Destination:
    """Where one message goes. ``name`` keys the sent-log; ``describe`` is safe to
    print (it names the environment variable, never its value)."""

    name: str
    describe: str
    send: Callable[[Message], None]
    record: bool = True  # False for the dry run: nothing is remembered


@dataclass(frozen=True)
class Outcome:
    dedup_key: str
    team: str
    destination: str
    status: str  # sent | suppressed | fallback | failed
    detail: str = ""


def deliver(
    plan: Iterable[tuple[Message, Sequence[Destination]]],
    fallback: Callable[[Destination], Destination] | None,
    log: SentLog,
    now: datetime,
    redact: Callable[[str], str],
    say: Callable[[str], None],
) -> list[Outcome]:
    """Send every message to each of its destinations, at most once per
    suppression interval; use the fallback for a destination that stays down."""
    outcomes: list[Outcome] = []
    for message, destinations in plan:
        for dest in destinations:
            key = message.dedup_key
            if dest.record and log.suppressed(key, dest.name, now, message.suppression_hours):
                sent = log.sent_at(key, dest.name)
                when = sent.isoformat() if sent else "?"
                outcomes.append(
                    Outcome(key, message.team, dest.name, "suppressed", f"already sent at {when}")
                )
                say(
                    f"suppressed {key} -> {dest.name}: already sent within "
                    f"{message.suppression_hours:g}h"
                )
                continue
            try:
                dest.send(message)
            except DeliveryError as exc:
                error = redact(str(exc))
                say(f"FAILED {key} -> {dest.describe}: {error}")
                outcomes.append(_fall_back(message, dest, error, fallback, log, now, redact, say))
                continue
            if dest.record:
                log.record(key, dest.name, now, team=message.team, run_id=message.run_id)
                log.save(now)
            outcomes.append(Outcome(key, message.team, dest.name, "sent"))
            say(f"sent {key} -> {dest.describe}")
    return outcomes


def _fall_back(
    message: Message,
    dest: Destination,
    error: str,
    fallback: Callable[[Destination], Destination] | None,
    log: SentLog,
    now: datetime,
    redact: Callable[[str], str],
    say: Callable[[str], None],
) -> Outcome:
    key = message.dedup_key
    if fallback is None:
        return Outcome(key, message.team, dest.name, "failed", error)
    spare = fallback(dest)
    if log.suppressed(key, spare.name, now, message.suppression_hours):
        say(f"{key} -> {spare.describe}: already in the fallback")
        return Outcome(key, message.team, dest.name, "fallback", error)
    try:
        spare.send(message)
    except DeliveryError as exc:
        say(f"FAILED {key} -> fallback {spare.describe}: {redact(str(exc))}")
        return Outcome(key, message.team, dest.name, "failed", error)
    if spare.record:
        log.record(key, spare.name, now, team=message.team, run_id=message.run_id, error=error)
        log.save(now)
    say(f"fell back {key} -> {spare.describe}")
    return Outcome(key, message.team, dest.name, "fallback", error)


def exit_code(outcomes: Iterable[Outcome]) -> int:
    statuses = {o.status for o in outcomes}
    if "failed" in statuses:
        return EXIT_UNDELIVERED
    if "fallback" in statuses:
        return EXIT_FALLBACK
    return EXIT_OK
