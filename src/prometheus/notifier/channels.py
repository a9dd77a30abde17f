"""Where messages go: stdout (dry run), a JSON-lines file, Slack incoming webhooks,
generic JSON webhooks, PagerDuty (Events API v2) and e-mail over SMTP.

A destination renders a message into payloads (stored in the outbox before any
sending) and sends a stored payload. Endpoints and secrets come only from
environment variables, are read at send time, never stored, never printed: every
destination describes itself by the *name* of its variable, and every error passes
through a ``Redactor`` that knows the secret values.

=================================== ==============================================
PROMETHEUS_SLACK_WEBHOOK_<TEAM>      Slack incoming webhook for a team (TEAM = group
                                     name upper-cased, e.g. FINANCE_RISK)
PROMETHEUS_SLACK_WEBHOOK             Slack webhook for teams without their own
PROMETHEUS_WEBHOOK_URL_<TEAM>        generic JSON webhook for a team
PROMETHEUS_WEBHOOK_URL               generic JSON webhook for teams without their own
PROMETHEUS_WEBHOOK_TOKEN             optional bearer token for the generic webhook
PROMETHEUS_PAGERDUTY_ROUTING_KEY_<TEAM> / PROMETHEUS_PAGERDUTY_ROUTING_KEY
                                     Events API v2 integration (routing) key
PROMETHEUS_PAGERDUTY_URL             events endpoint (default EVENTS_URL below)
PROMETHEUS_SMTP_HOST / _PORT         SMTP server (port default 25)
PROMETHEUS_SMTP_USER / _PASSWORD     optional login (STARTTLS is used when set)
PROMETHEUS_SMTP_STARTTLS             1/0 to force STARTTLS on or off
PROMETHEUS_SMTP_FROM                 sender (default prometheus-notifier@localhost)
PROMETHEUS_NOTIFY_JSONL              JSON-lines file
                                     (default artifacts/notifier/notifications.jsonl)
=================================== ==============================================
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import smtplib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import requests

from prometheus.notifier.delivery import (
    Deadline,
    DeliveryError,
    RetryPolicy,
    post_json,
    with_retries,
)
from prometheus.notifier.render import render_text, slack_payloads
from prometheus.notifier.routing import Change, Message

CHANNELS = ("stdout", "jsonl", "slack", "webhook", "pagerduty", "email")
DEFAULT_JSONL = "artifacts/notifier/notifications.jsonl"
DEFAULT_FALLBACK_JSONL = "artifacts/notifier/undelivered.jsonl"
EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")
PD_SEVERITY = {"warn": "warning", "skipped": "warning", "fail": "error",
               "error": "critical", "runtime error": "critical"}  # fmt: skip


class ChannelConfigError(Exception):
    """A channel was asked for but its environment is incomplete or invalid."""


class Redactor:
    """Replaces every known secret value in a text by ``***``."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, value: str | None) -> str | None:
        if value and len(value) >= 4:
            self._secrets.add(value)
        return value

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def team_env(prefix: str, team: str) -> str:
    return f"{prefix}_{team.upper().replace('-', '_')}"


def check_url(var: str, url: str) -> None:
    """An http(s) URL with a host, or ChannelConfigError naming the variable (never
    the value: it is a secret)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ChannelConfigError(f"${var} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ChannelConfigError(f"${var} is not an http(s) URL with a host")


@dataclass(frozen=True)
class Destination:
    """Where one team's messages go. ``name`` keys the outbox; ``describe`` is safe
    to print (it names the environment variable, never its value). ``render``
    returns the payloads to store (none: nothing to send there); ``send`` sends one
    stored payload; ``idempotent``: the receiver dedupes a resend."""

    name: str
    describe: str
    render: Callable[[Message], list[Any]]
    send: Callable[[str, Any, Deadline], None]  # (message key, payload, deadline)
    idempotent: bool = False


class Channels:
    """Builds destinations from the environment; one object per run."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
        stdout: TextIO | None = None,
        jsonl_path: Path | None = None,
        fallback_path: Path | None = None,
    ) -> None:
        self.env = dict(os.environ if env is None else env)
        self.policy = policy or RetryPolicy()
        self.stdout = stdout
        self.redact = Redactor()
        self.jsonl_path = jsonl_path or Path(
            self.env.get("PROMETHEUS_NOTIFY_JSONL") or DEFAULT_JSONL
        )
        self.fallback_path = fallback_path or Path(DEFAULT_FALLBACK_JSONL)
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def _secret(self, *names: str) -> tuple[str, str] | None:
        for name in names:
            value = self.env.get(name)
            if value:
                self.redact.add(value)
                return name, value
        return None

    def destination(self, channel: str, team: str, email: str | None = None) -> Destination:
        """The destination of ``team``'s messages on ``channel``; ChannelConfigError
        if the environment does not say where, or says it wrongly."""
        if channel not in CHANNELS:
            raise ChannelConfigError(f"unknown channel {channel!r}")
        builder: Callable[[str, str | None], Destination] = getattr(self, f"_{channel}")
        return builder(team, email)

    # stdout: the dry run
    def _stdout(self, team: str, email: str | None) -> Destination:
        def send(key: str, payload: Any, deadline: Deadline) -> None:
            out = self.stdout or sys.stdout
            out.write(str(payload) + "\n" + "-" * 72 + "\n")
            out.flush()

        return Destination("stdout", "stdout (dry run)", lambda m: [render_text(m)], send, True)

    def _jsonl(self, team: str, email: str | None) -> Destination:
        path = self.jsonl_path
        return Destination(
            f"jsonl:{team}", f"jsonl file {path}", lambda m: [m.to_dict()], self._append(path)
        )

    def fallback(self, failed: Destination) -> Destination:
        path = self.fallback_path
        write = self._append(path, extra={"undelivered_to": failed.name})
        return Destination(f"fallback:{failed.name}", f"fallback file {path}", failed.render, write)

    @staticmethod
    def _append(
        path: Path, extra: Mapping[str, str] | None = None
    ) -> Callable[[str, Any, Deadline], None]:
        def send(key: str, payload: Any, deadline: Deadline) -> None:
            record = payload if isinstance(payload, dict) else {"payload": payload}
            line = json.dumps(
                {**record, "message_key": key, **(extra or {})}, sort_keys=True, default=str
            )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise DeliveryError(f"cannot append to {path}: {exc.strerror}") from None

        return send

    def _url(self, prefix: str, team: str, label: str) -> tuple[str, str]:
        team_var = team_env(prefix, team)
        found = self._secret(team_var, prefix)
        if found is None:
            raise ChannelConfigError(f"{label}: set {team_var} or {prefix}")
        check_url(found[0], found[1])
        return found

    def _slack(self, team: str, email: str | None) -> Destination:
        var, url = self._url("PROMETHEUS_SLACK_WEBHOOK", team, "slack")

        def send(key: str, payload: Any, deadline: Deadline) -> None:
            post_json(self.session, url, payload, self.policy, deadline,
                      headers={"Idempotency-Key": key})  # fmt: skip

        return Destination(f"slack:{team}", f"Slack webhook ${var}", slack_payloads, send)

    def _webhook(self, team: str, email: str | None) -> Destination:
        var, url = self._url("PROMETHEUS_WEBHOOK_URL", team, "webhook")
        token = self._secret("PROMETHEUS_WEBHOOK_TOKEN")

        def send(key: str, payload: Any, deadline: Deadline) -> None:
            headers = {"Idempotency-Key": key}
            if token is not None:
                headers["Authorization"] = f"Bearer {token[1]}"
            post_json(self.session, url, payload, self.policy, deadline, headers=headers)

        return Destination(f"webhook:{team}", f"JSON webhook ${var}", lambda m: [m.to_dict()], send)

    def _pagerduty(self, team: str, email: str | None) -> Destination:
        team_var = team_env("PROMETHEUS_PAGERDUTY_ROUTING_KEY", team)
        found = self._secret(team_var, "PROMETHEUS_PAGERDUTY_ROUTING_KEY")
        if found is None:
            raise ChannelConfigError(
                f"pagerduty: set {team_var} or PROMETHEUS_PAGERDUTY_ROUTING_KEY"
            )
        var, routing_key = found
        if not ROUTING_KEY.match(routing_key):
            raise ChannelConfigError(f"pagerduty: ${var} is not a 32-character integration key")
        url = self.env.get("PROMETHEUS_PAGERDUTY_URL") or EVENTS_URL
        check_url("PROMETHEUS_PAGERDUTY_URL", url)

        def send(key: str, payload: Any, deadline: Deadline) -> None:
            post_json(self.session, url, {**payload, "routing_key": routing_key}, self.policy,
                      deadline)  # fmt: skip

        return Destination(
            f"pagerduty:{team}", f"PagerDuty events ${var}", pagerduty_events, send, True
        )

    def _email(self, team: str, email: str | None) -> Destination:
        host = self.env.get("PROMETHEUS_SMTP_HOST")
        if not host:
            raise ChannelConfigError("email: set PROMETHEUS_SMTP_HOST (and _PORT, _FROM, ...)")
        if not email:
            raise ChannelConfigError(f"email: team {team} has no e-mail in its meta")
        try:
            port = int(self.env.get("PROMETHEUS_SMTP_PORT") or 25)
        except ValueError:
            raise ChannelConfigError("email: PROMETHEUS_SMTP_PORT is not a number") from None
        if not 0 < port < 65536:
            raise ChannelConfigError("email: PROMETHEUS_SMTP_PORT is not a port (1-65535)")
        user = self.env.get("PROMETHEUS_SMTP_USER") or None
        password = self.redact.add(self.env.get("PROMETHEUS_SMTP_PASSWORD") or None)
        starttls_env = self.env.get("PROMETHEUS_SMTP_STARTTLS")
        starttls = bool(user) if starttls_env is None else starttls_env not in ("0", "false", "")
        sender = self.env.get("PROMETHEUS_SMTP_FROM") or "prometheus-notifier@localhost"
        policy = self.policy

        def render(msg: Message) -> list[Any]:
            return [{"subject": msg.title, "to": msg.email, "body": render_text(msg, max_rows=5)}]

        def send(key: str, payload: Any, deadline: Deadline) -> None:
            mail = EmailMessage()
            mail["Subject"] = payload["subject"]
            mail["From"] = sender
            mail["To"] = payload["to"]
            # same id for the same message: mail systems can dedupe a resend
            mail["Message-ID"] = f"<{key.replace(':', '.')}@prometheus-notifier>"
            mail["X-Prometheus-Dedup-Key"] = key
            mail.set_content(payload["body"])

            def attempt() -> None:
                timeout = deadline.timeout(policy.timeout)
                with smtplib.SMTP(host, port, timeout=timeout) as smtp:
                    if starttls:
                        smtp.starttls()
                    if user and password:
                        smtp.login(user, password)
                    smtp.send_message(mail)

            with_retries(attempt, policy, deadline)

        return Destination(
            f"email:{team}", f"e-mail to {email} via $PROMETHEUS_SMTP_HOST", render, send
        )


def pd_dedup_key(change: Change) -> str:
    digest = hashlib.sha256(change.key.encode()).hexdigest()[:16]
    return f"prometheus-{digest}-{change.incident_id}"


def pagerduty_events(message: Message) -> list[Any]:
    """Events API v2: trigger paging incidents (opened, worse, reminder), resolve
    them when they pass, acknowledge one that eased to a non-paging status.
    Warnings that never paged send nothing to PagerDuty."""
    events: list[Any] = []
    problems = {p.unique_id: p for p in message.problems}
    for change in message.changes:
        dedup = pd_dedup_key(change)
        if change.kind == "resolved":
            if change.action == "page":
                events.append({"event_action": "resolve", "dedup_key": dedup})
            continue
        if change.action != "page":
            if change.kind == "eased":  # it paged before; no longer blocking
                events.append({"event_action": "acknowledge", "dedup_key": dedup})
            continue
        problem = problems.get(change.test)
        links = []
        if problem is not None:
            for text, href in (
                ("Elementary report", message.links.report_page(problem.unique_id)),
                ("dbt docs", message.links.docs_page(problem.unique_id)),
            ):
                if href:
                    links.append({"href": href, "text": text})
        rows = f", {change.rows} failing row(s)" if change.rows is not None else ""
        events.append(
            {
                "event_action": "trigger",
                "dedup_key": dedup,
                "payload": {
                    "summary": f"[{change.status.upper()}] {change.pipeline or message.team}: "
                    f"{change.name}{rows}"[:1024],
                    "source": "prometheus dbt build",
                    "severity": PD_SEVERITY.get(change.status, "error"),
                    "component": change.pipeline or message.team,
                    "group": message.team,
                    "class": change.name,
                    "custom_details": {
                        "incident": change.to_dict(),
                        "stored_failing_rows": problem.relation_name if problem else None,
                        "runbook": [
                            {"issue": i.issue, "steps": list(i.steps)}
                            for i in message.runbook(change.test)
                        ],
                        "run_id": message.run_id,
                    },
                },
                "links": links,
            }
        )
    return events
