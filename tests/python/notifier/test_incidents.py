"""Incidents end to end: `prometheus notify` over real artifacts of two corrupted
builds, delivering to real servers on 127.0.0.1 (Slack-shaped and generic webhooks,
a PagerDuty-shaped events endpoint), counting every delivery of every step:
fail -> persist -> worsen -> pass -> fail again; two notifiers at once; kill -9
during delivery; bad inputs that must send nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from notifier_servers import PagerDuty, Server

import prometheus.cli
from prometheus.cli import main
from prometheus.notifier.incidents import Store

MINE = ("notify", "oncall", "validate-oncall")
PD_KEY = "R0UT1NGKEY0123456789ABCDEFGHIJKL"  # 32 characters, like a PagerDuty key
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def only_notifier_commands(monkeypatch):
    monkeypatch.setattr(prometheus.cli, "COMMANDS", {k: prometheus.cli.COMMANDS[k] for k in MINE})
    for name in list(os.environ):
        if name.startswith(
            (
                "PROMETHEUS_SLACK",
                "PROMETHEUS_WEBHOOK",
                "PROMETHEUS_SMTP",
                "PROMETHEUS_PAGERDUTY",
                "PROMETHEUS_REPORT",
                "PROMETHEUS_DOCS",
            )
        ):
            monkeypatch.delenv(name)  # fmt: skip


@pytest.fixture
def servers():
    made: list[Server] = []

    def make(kind: type[Server] = Server, script: list[object] | None = None) -> Server:
        made.append(kind(script or []))
        return made[-1]

    yield make
    for s in made:
        s.close()


def variant(src: Path, dest: Path, invocation: str, all_pass: bool = False) -> Path:
    """The same build's artifacts under another invocation id (a re-run on the same
    data); with ``all_pass``, the run in which every check passed again."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("manifest.json", "run_results.json"):
        data = json.loads((src / name).read_text())
        data["metadata"]["invocation_id"] = invocation
        if name == "run_results.json" and all_pass:
            for r in data["results"]:
                if r["status"] in ("fail", "warn", "error"):
                    r.update(status="pass", failures=0, message=None)
                elif r["status"] == "skipped":
                    r["status"] = "success"
        (dest / name).write_text(json.dumps(data))
    return dest


def notify(target: Path, tmp_path: Path, at: str, *extra: str) -> int:
    return main([
        "notify", "--target-dir", str(target), "--at", at,
        "--state-file", str(tmp_path / "incidents.sqlite"),
        "--fallback-path", str(tmp_path / "undelivered.jsonl"),
        "--duckdb-path", str(tmp_path / "absent.duckdb"),
        "--timeout", "1", "--attempts", "2", "--backoff", "0.05", "--deadline", "20",
        "--report-url", "https://reports.example/elementary",
        "--docs-url", "https://docs.example/dbt", *extra,
    ])  # fmt: skip


def kinds(store_path: Path) -> Counter[str]:
    return Counter(e["kind"] for e in Store(store_path).history())


def test_fail_persist_worsen_pass_fail_again(fixtures, second_build, tmp_path, servers,
                                             monkeypatch, capsys):  # fmt: skip
    slack, hook, pd = servers(), servers(), servers(PagerDuty)
    monkeypatch.setenv("PROMETHEUS_SLACK_WEBHOOK", slack.url("/services/T0/B0/SECRET"))
    monkeypatch.setenv("PROMETHEUS_WEBHOOK_URL", hook.url())
    monkeypatch.setenv("PROMETHEUS_PAGERDUTY_ROUTING_KEY", PD_KEY)
    monkeypatch.setenv("PROMETHEUS_PAGERDUTY_URL", pd.url("/v2/enqueue"))
    channels = ("--channel", "slack", "--channel", "webhook", "--channel", "pagerduty")
    store = tmp_path / "incidents.sqlite"

    # 1. fail: 7 incidents opened (3 failing tests + 1 warning, per pipeline reached)
    assert notify(fixtures.target, tmp_path, "2026-01-28T12:00:00Z", *channels) == 0
    assert kinds(store) == {"opened": 7}
    assert (len(slack.delivered), len(hook.delivered)) == (3, 3)  # one message per team
    pd.apply()
    # PagerDuty: one alert per blocking incident per team; the warning pages nobody
    # PagerDuty: a trigger per blocking incident per team told (3 + 5 + 2), deduplicated
    # by incident into 5 alerts; the warnings page nobody
    assert len(pd.delivered) == 10 and pd.invalid == []
    assert len(pd.alerts) == 5 and pd.pages == 5
    assert all(e["payload"]["severity"] == "error" for e in pd.delivered)
    warned = [m for m in hook.delivered if any(c["action"] == "channel" for c in m["changes"])]
    assert warned, "the warning is told to the team's channel"
    first = slack.delivered[0]
    assert first["blocks"][0]["type"] == "header" and "[BLOCKING]" in first["text"]
    text = json.dumps(slack.delivered)
    assert "<@U0ZOE0001>" in text  # a real mention of the engineer on call
    assert "https://reports.example/elementary/#/test-results/test.prometheus." in text
    assert "https://docs.example/dbt/#!/test/test.prometheus." in text
    assert "dq_failures" in text and "select * from" in text
    assert "SECRET" not in capsys.readouterr().err

    # 2. persist: the next build fails the same way -> updated, nothing sent
    again = variant(fixtures.target, tmp_path / "again", "00000000-0000-0000-0000-000000000002")
    assert notify(again, tmp_path, "2026-01-28T18:00:00Z", *channels) == 0
    assert kinds(store)["updated"] == 7
    assert (len(slack.delivered), len(hook.delivered), len(pd.delivered)) == (3, 3, 10)

    # 3. worsen: 3 NULL user_ids instead of 2 (re-notified), the duplicate is fixed
    # (resolved, with a message), the filings NULL persists (updated, not re-sent)
    assert notify(second_build.target, tmp_path, "2026-01-29T06:00:00Z", *channels) == 0
    k = kinds(store)
    assert (k["worsened"], k["resolved"], k["updated"]) == (2, 2, 7 + 3)
    assert (len(slack.delivered), len(hook.delivered)) == (6, 6)
    pd.apply()
    resolved = [e for e in pd.delivered[10:] if e["event_action"] == "resolve"]
    assert len(resolved) == 4  # the two unique incidents, to each team told about them
    assert Counter(pd.alerts.values()) == {"triggered": 3, "resolved": 2}
    assert pd.pages == 5  # the worse incidents re-notify the same alerts, no new page
    worse = next(m for m in hook.delivered[3:] if m["team"] == "finance_risk")
    assert {(c["kind"], c["failing_rows"]) for c in worse["changes"]} == {
        ("worsened", 3), ("resolved", 0)}  # fmt: skip

    # 4. pass: everything green -> every open incident resolved, once
    green = variant(second_build.target, tmp_path / "green", "00000000-0000-0000-0000-000000000004",
                    all_pass=True)  # fmt: skip
    assert notify(green, tmp_path, "2026-01-29T12:00:00Z", *channels) == 0
    assert kinds(store)["resolved"] == 7
    pd.apply()
    assert set(pd.alerts.values()) == {"resolved"}
    assert len(slack.delivered) == 9
    assert all("[RESOLVED]" in m["text"] for m in slack.delivered[6:])

    # 5. fail again within 24 h: new incidents, sent again (not suppressed)
    third = variant(fixtures.target, tmp_path / "third", "00000000-0000-0000-0000-000000000005")
    assert notify(third, tmp_path, "2026-01-29T18:00:00Z", *channels) == 0
    assert kinds(store)["opened"] == 14
    assert (len(slack.delivered), len(hook.delivered)) == (12, 12)
    pd.apply()
    assert list(pd.alerts.values()).count("triggered") == 5 and pd.pages == 10

    # 6. still failing past the re-notify interval (24 h): a reminder, once
    fourth = variant(fixtures.target, tmp_path / "fourth", "00000000-0000-0000-0000-000000000006")
    assert notify(fourth, tmp_path, "2026-01-30T19:00:00Z", *channels) == 0
    assert kinds(store)["reminder"] == 7
    assert len(slack.delivered) == 15
    # every delivery exactly once: no Idempotency-Key seen twice
    keys = Counter(r["headers"]["Idempotency-Key"] for r in slack.requests)
    assert max(keys.values()) == 1


def run_notifier(target: Path, tmp_path: Path, env: dict[str, str], *extra: str):
    return subprocess.Popen(
        [sys.executable, "-m", "prometheus.cli", "notify", "--target-dir", str(target),
         "--at", "2026-01-28T12:00:00Z", "--state-file", str(tmp_path / "incidents.sqlite"),
         "--fallback-path", str(tmp_path / "undelivered.jsonl"), "--sample-rows", "0",
         "--channel", "webhook", "--channel", "pagerduty", "--timeout", "2", "--attempts", "2",
         "--backoff", "0.05", "--deadline", "20", *extra],
        env={**os.environ, **env}, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def test_two_notifiers_at_once_deliver_each_message_once(fixtures, tmp_path, servers):
    hook = servers(Server, [("slow", 0.3)] * 6)
    pd = servers(PagerDuty, [("slow", 0.1)] * 10)
    env = {"PROMETHEUS_WEBHOOK_URL": hook.url(), "PROMETHEUS_PAGERDUTY_ROUTING_KEY": PD_KEY,
           "PROMETHEUS_PAGERDUTY_URL": pd.url()}  # fmt: skip
    procs = [run_notifier(fixtures.target, tmp_path, env) for _ in range(2)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert len(hook.delivered) == 3  # not 6
    assert Counter(m["dedup_key"] for m in hook.delivered).most_common(1)[0][1] == 1
    assert len(pd.delivered) == 10
    # the second notifier saw the first one's incidents: this run is recorded once
    assert kinds(tmp_path / "incidents.sqlite") == {"opened": 7}


def test_kill_during_delivery_loses_nothing(fixtures, tmp_path, servers):
    """kill -9 at random moments of the delivery, 4 times, then a clean run: every
    message reaches the webhook at least once, a duplicate only for a kill between
    the receiver taking it and the outcome being recorded (one in flight per team's
    destination at most); PagerDuty, which dedupes
    by dedup_key, ends with exactly the alerts it should; the store stays whole."""
    hook = servers(Server, [("slow", 0.25)] * 40)
    pd = servers(PagerDuty, [("slow", 0.05)] * 60)
    env = {"PROMETHEUS_WEBHOOK_URL": hook.url(), "PROMETHEUS_PAGERDUTY_ROUTING_KEY": PD_KEY,
           "PROMETHEUS_PAGERDUTY_URL": pd.url()}  # fmt: skip
    rng = random.Random(13)
    kills = 0
    for _ in range(4):
        proc = run_notifier(fixtures.target, tmp_path, env)
        deadline = time.monotonic() + 20
        while len(hook.requests) + len(pd.requests) == 0 and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=20)
    final = run_notifier(fixtures.target, tmp_path, env)
    out, err = final.communicate(timeout=60)
    assert final.returncode == 0, out + err
    assert kills >= 1
    store = tmp_path / "incidents.sqlite"
    with sqlite3.connect(store) as con:
        assert con.execute("pragma integrity_check").fetchone() == ("ok",)
    assert kinds(store)["opened"] == 7  # the lifecycle was recorded once
    delivered = Counter(m["dedup_key"] for m in hook.delivered)
    assert len(delivered) == 3  # every message arrived
    # a kill duplicates only what was in flight: at most one message per destination
    # (each team's webhook is served in order, the teams in parallel), per kill
    assert sum(delivered.values()) - 3 <= kills * len(delivered)
    pd.apply()
    assert pd.invalid == []
    assert len(pd.alerts) == 5 and set(pd.alerts.values()) == {"triggered"}
    assert pd.pages == 5  # PagerDuty deduplicated every resend
    assert all(d["state"] == "sent" for d in Store(store).deliveries())


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("other-invocation", "run_results.json is from invocation"),
        (
            "unknown-node",
            "run_results.json names node(s) not in manifest.json: model.prometheus.ghost",
        ),
        ("bad-webhook-url", "$PROMETHEUS_WEBHOOK_URL is not an http(s) URL with a host"),
        ("bad-pagerduty-key", "is not a 32-character integration key"),
        ("bad-report-url", "PROMETHEUS_REPORT_URL (--report-url) is not an http(s) URL"),
        ("not-a-store", "not a notifier incident store"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(fixtures, tmp_path, servers, monkeypatch, capsys,
                                             setup, expected):  # fmt: skip
    hook = servers()
    target = variant(fixtures.target, tmp_path / "t", "11111111-0000-0000-0000-000000000000")
    monkeypatch.setenv("PROMETHEUS_WEBHOOK_URL", hook.url())
    monkeypatch.setenv("PROMETHEUS_PAGERDUTY_ROUTING_KEY", PD_KEY)
    monkeypatch.setenv("PROMETHEUS_PAGERDUTY_URL", hook.url("/pd"))
    extra: list[str] = []
    if setup == "other-invocation":
        data = json.loads((target / "run_results.json").read_text())
        data["metadata"]["invocation_id"] = "22222222-0000-0000-0000-000000000000"
        (target / "run_results.json").write_text(json.dumps(data))
    elif setup == "unknown-node":
        data = json.loads((target / "run_results.json").read_text())
        data["results"].append({**data["results"][0], "unique_id": "model.prometheus.ghost"})
        (target / "run_results.json").write_text(json.dumps(data))
    elif setup == "bad-webhook-url":
        monkeypatch.setenv("PROMETHEUS_WEBHOOK_URL", "htp:/127.0.0.1 secret-path")
    elif setup == "bad-pagerduty-key":
        monkeypatch.setenv("PROMETHEUS_PAGERDUTY_ROUTING_KEY", "short-secret")
    elif setup == "bad-report-url":
        extra = ["--report-url", "reports.example"]
    elif setup == "not-a-store":
        (tmp_path / "incidents.sqlite").write_text("this is not SQLite\n" * 100)
    code = main([
        "notify", "--target-dir", str(target), "--at", "2026-01-28T12:00:00Z",
        "--state-file", str(tmp_path / "incidents.sqlite"), "--sample-rows", "0",
        "--jsonl-path", str(tmp_path / "out.jsonl"),
        "--channel", "jsonl", "--channel", "webhook", "--channel", "pagerduty", *extra,
    ])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and "Traceback" not in err
    assert "secret" not in err.lower().replace("secrets", "")
    assert hook.requests == [] and not (tmp_path / "out.jsonl").exists()
    if setup != "not-a-store":
        assert (
            not (tmp_path / "incidents.sqlite").exists()
            or Store(tmp_path / "incidents.sqlite").history() == []
        )
