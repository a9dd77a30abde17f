"""Delivery against real servers on 127.0.0.1: HTTP that fails in scripted ways
then recovers, and SMTP (aiosmtpd). Nothing lost, nothing duplicated, bounded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from notifier_servers import Server, free_port

from prometheus.notifier.channels import Channels
from prometheus.notifier.delivery import (
    EXIT_FALLBACK,
    EXIT_OK,
    EXIT_UNDELIVERED,
    Deadline,
    RetryPolicy,
    deliver,
    exit_code,
)
from prometheus.notifier.incidents import Store
from prometheus.notifier.routing import Message

NOW = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)
FAST = RetryPolicy(attempts=4, timeout=0.5, backoff=0.05, backoff_max=0.2, retry_after_max=1)


def message(team: str = "finance_risk", key: str = "finance_risk:abc") -> Message:
    return Message(
        team=team, team_display="Finance/Risk", channel="#fr", email="fr@x.example",
        run_id="run-1", at=NOW, status="fail", problems=(), pipelines=(),
        mentions=("<@U0AMARA01>",),
        suppression_hours=24, dedup_key=key,
    )  # fmt: skip


@pytest.fixture
def server_factory() -> Iterator:
    servers: list[Server] = []

    def make(script: list[object], port: int = 0) -> Server:
        servers.append(Server(script, port))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def run_delivery(channels: Channels, channel: str, store: Store, msgs: list[Message], now=NOW,
                 deadline: float = 30.0):  # fmt: skip
    """Record the messages in the outbox (once: a key already there is kept), then
    deliver everything pending, as `notify` does."""
    lines: list[str] = []
    dests = {}
    with store.transaction() as con:
        for m in msgs:
            dest = channels.destination(channel, m.team, m.email)
            dests[dest.name] = dest
            for payload in dest.render(m):
                store.add_outbox(con, m.dedup_key, dest.name, m.team, now, payload)
    outcomes = deliver(store, store.pending(now - timedelta(hours=24)), dests, channels.fallback,
                       Deadline(deadline), channels.redact, lines.append,
                       now=lambda: now)  # fmt: skip
    return outcomes, lines


def make_channels(tmp_path: Path, env: dict[str, str], policy: RetryPolicy = FAST) -> Channels:
    return Channels(env=env, policy=policy, fallback_path=tmp_path / "undelivered.jsonl")


@pytest.mark.parametrize(
    ("script", "requests", "min_seconds", "max_seconds"),
    [
        ([500, 502, 200], 3, 0.0, 2.0),
        ([("retry-after", 1), 200], 2, 1.0, 3.0),  # Retry-After honoured
        (["hang", 200], 2, 0.5, 3.0),  # read time-out, then retry
        ([500, ("retry-after", 1), "hang", 200], 4, 1.5, 4.0),
        ([("retry-after", 3600), 200], 2, 0.9, 3.0),  # capped at retry_after_max (1 s)
    ],
)
def test_webhook_retries_until_it_recovers(
    server_factory, tmp_path, script, requests, min_seconds, max_seconds
):
    server = server_factory(script)
    channels = make_channels(tmp_path, {"PROMETHEUS_WEBHOOK_URL": server.url()})
    store = Store(tmp_path / "state.sqlite")
    started = time.monotonic()
    outcomes, _ = run_delivery(channels, "webhook", store, [message()])
    elapsed = time.monotonic() - started
    assert [o.status for o in outcomes] == ["sent"]
    assert exit_code(outcomes) == EXIT_OK
    assert len(server.requests) == requests
    assert [d["dedup_key"] for d in server.delivered] == ["finance_risk:abc"]  # once
    assert {r["headers"]["Idempotency-Key"] for r in server.requests} == {"finance_risk:abc"}
    assert min_seconds <= elapsed < max_seconds
    assert not (tmp_path / "undelivered.jsonl").exists()


def test_destination_down_uses_fallback_then_recovery_sends_once(server_factory, tmp_path):
    port = free_port()  # nothing listens: connection refused
    env = {"PROMETHEUS_SLACK_WEBHOOK_FINANCE_RISK": f"http://127.0.0.1:{port}/services/T0/SECRET"}
    store = Store(tmp_path / "state.sqlite")
    started = time.monotonic()
    outcomes, lines = run_delivery(make_channels(tmp_path, env), "slack", store, [message()])
    assert time.monotonic() - started < 5
    assert [o.status for o in outcomes] == ["fallback"]
    assert exit_code(outcomes) == EXIT_FALLBACK
    fallback_lines = (tmp_path / "undelivered.jsonl").read_text().splitlines()
    assert len(fallback_lines) == 1
    assert json.loads(fallback_lines[0])["undelivered_to"] == "slack:finance_risk"
    assert not any("SECRET" in line for line in lines)
    assert any("PROMETHEUS_SLACK_WEBHOOK_FINANCE_RISK" in line for line in lines)

    # the destination recovers: the next run sends to it once, not to the fallback again
    server = server_factory([], port=port)
    reopened = Store(tmp_path / "state.sqlite")
    outcomes, _ = run_delivery(make_channels(tmp_path, env), "slack", reopened, [message()],
                               now=NOW + timedelta(minutes=10))  # fmt: skip
    assert [o.status for o in outcomes] == ["sent"]
    assert len(server.delivered) == 1 and server.delivered[0]["text"].startswith("[BLOCKING]")
    assert server.delivered[0]["blocks"][0]["type"] == "header"
    assert len((tmp_path / "undelivered.jsonl").read_text().splitlines()) == 1
    # and a third run sends nothing anywhere: delivered is delivered
    outcomes, _ = run_delivery(make_channels(tmp_path, env), "slack", Store(
        tmp_path / "state.sqlite"), [message()], now=NOW + timedelta(hours=2))  # fmt: skip
    assert outcomes == []
    assert len(server.requests) == 1


def test_bounded_attempts_when_the_server_stays_down(server_factory, tmp_path):
    server = server_factory([500] * 20)
    policy = RetryPolicy(attempts=3, timeout=0.5, backoff=0.05, backoff_max=0.1)
    channels = make_channels(tmp_path, {"PROMETHEUS_WEBHOOK_URL": server.url()}, policy)
    store = Store(tmp_path / "state.sqlite")
    outcomes, lines = run_delivery(channels, "webhook", store, [message(), message("x", "x:1")])
    assert [o.status for o in outcomes] == ["fallback", "fallback"]
    assert len(server.requests) == 6  # 3 per message, no more
    assert server.delivered == []
    assert any("HTTP 500 after 3 attempt(s)" in line for line in lines)
    keys = [json.loads(x)["dedup_key"] for x in (tmp_path / "undelivered.jsonl").open()]
    assert sorted(keys) == ["finance_risk:abc", "x:1"]


def test_fallback_that_fails_too_means_undelivered(server_factory, tmp_path):
    server = server_factory([500] * 10)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    policy = RetryPolicy(attempts=2, timeout=0.5, backoff=0.01)
    channels = Channels(env={"PROMETHEUS_WEBHOOK_URL": server.url()}, policy=policy,
                        fallback_path=blocker / "undelivered.jsonl")  # fmt: skip
    store = Store(tmp_path / "state.sqlite")
    outcomes, _ = run_delivery(channels, "webhook", store, [message()])
    assert [o.status for o in outcomes] == ["failed"]
    assert exit_code(outcomes) == EXIT_UNDELIVERED
    assert [d["state"] for d in store.deliveries()] == ["failed"]  # the next run tries again
    assert len(store.pending(NOW - timedelta(hours=1))) == 1


class Mailbox:
    """aiosmtpd handler: answers the first ``transient`` DATA commands with 451 (or
    every one with ``permanent``), then accepts and keeps the messages."""

    def __init__(self, transient: int = 0, permanent: bool = False) -> None:
        self.transient = transient
        self.permanent = permanent
        self.attempts = 0
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.attempts += 1
        if self.permanent:
            return "550 mailbox unavailable"
        if self.attempts <= self.transient:
            return "451 try again later"
        self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator:
    controllers: list[Controller] = []

    def start(box: Mailbox) -> int:
        port = free_port()
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for c in controllers:
        c.stop()


@pytest.mark.parametrize(("transient", "attempts"), [(0, 1), (2, 3)])
def test_email_delivered_once_after_transient_errors(smtp, tmp_path, transient, attempts):
    box = Mailbox(transient=transient)
    port = smtp(box)
    env = {"PROMETHEUS_SMTP_HOST": "127.0.0.1", "PROMETHEUS_SMTP_PORT": str(port),
           "PROMETHEUS_SMTP_FROM": "alerts@prometheus.example"}  # fmt: skip
    store = Store(tmp_path / "state.sqlite")
    outcomes, _ = run_delivery(make_channels(tmp_path, env), "email", store, [message()])
    assert [o.status for o in outcomes] == ["sent"]
    assert box.attempts == attempts
    (mail_from, rcpts, content), = box.received  # fmt: skip
    assert (mail_from, rcpts) == ("alerts@prometheus.example", ["fr@x.example"])
    assert b"Message-ID: <finance_risk.abc@prometheus-notifier>" in content
    assert b"[BLOCKING]" in content
    outcomes, _ = run_delivery(make_channels(tmp_path, env), "email", store, [message()])
    assert outcomes == [] and len(box.received) == 1


def test_email_permanent_error_is_not_retried(smtp, tmp_path):
    box = Mailbox(permanent=True)
    env = {"PROMETHEUS_SMTP_HOST": "127.0.0.1", "PROMETHEUS_SMTP_PORT": str(smtp(box)),
           "PROMETHEUS_SMTP_PASSWORD": "hunter2-secret"}  # fmt: skip
    outcomes, lines = run_delivery(make_channels(tmp_path, env), "email",
                                   Store(tmp_path / "s.sqlite"), [message()])  # fmt: skip
    assert [o.status for o in outcomes] == ["fallback"]
    assert box.attempts == 1
    assert any("SMTP 550" in line for line in lines)
    assert not any("hunter2" in line for line in lines)


def test_smtp_server_down_retries_bounded(tmp_path):
    env = {"PROMETHEUS_SMTP_HOST": "127.0.0.1", "PROMETHEUS_SMTP_PORT": str(free_port())}
    started = time.monotonic()
    outcomes, lines = run_delivery(make_channels(tmp_path, env), "email",
                                   Store(tmp_path / "s.sqlite"), [message()])  # fmt: skip
    assert time.monotonic() - started < 3
    assert [o.status for o in outcomes] == ["fallback"]
    assert any("after 4 attempt(s)" in line for line in lines)


def test_late_200_is_the_one_duplicate_and_the_deadline_bounds_a_hanging_destination(
    server_factory, tmp_path
):
    """At-least-once over HTTP: an answer after the client's time-out makes the
    client retry a message the receiver already took (documented in docs/notifier.md)."""
    late = server_factory(["late", 200])
    channels = make_channels(tmp_path, {"PROMETHEUS_WEBHOOK_URL": late.url()})
    outcomes, _ = run_delivery(channels, "webhook", Store(tmp_path / "a.sqlite"), [message()])
    assert [o.status for o in outcomes] == ["sent"]
    assert len(late.delivered) == 2  # the late-200 duplicate, with the same Idempotency-Key
    assert {r["headers"]["Idempotency-Key"] for r in late.requests} == {"finance_risk:abc"}

    # a destination that always hangs cannot hold the run past its deadline
    hang = server_factory(["hang"] * 20)
    slow = RetryPolicy(attempts=10, timeout=0.6, backoff=0.01)
    env = {"PROMETHEUS_WEBHOOK_URL": hang.url()}
    started = time.monotonic()
    channels = make_channels(tmp_path, env, slow)
    outcomes, lines = run_delivery(
        channels, "webhook", Store(tmp_path / "b.sqlite"), [message()], deadline=1.5
    )
    assert time.monotonic() - started < 2.5
    assert [o.status for o in outcomes] == ["fallback"]
    assert any("deadline" in line for line in lines)


def test_a_refused_4xx_is_not_retried(server_factory, tmp_path):
    server = server_factory([404, 200])
    channels = make_channels(tmp_path, {"PROMETHEUS_WEBHOOK_URL": server.url()})
    outcomes, lines = run_delivery(channels, "webhook", Store(tmp_path / "s.sqlite"), [message()])
    assert [o.status for o in outcomes] == ["fallback"]
    assert len(server.requests) == 1
    assert any("HTTP 404 (not retried)" in line for line in lines)
