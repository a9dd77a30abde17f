"""Where messages go: stdout (dry run), a JSON-lines file, Slack incoming webhooks,
generic JSON webhooks and e-mail over SMTP.

Endpoints and secrets come only from environment variables and are never printed:
every destination describes itself by the *name* of its variable, and every error
passes through a ``Redactor`` that knows the secret values.

=============================== ==============================================
PROMETHEUS_SLACK_WEBHOOK_<TEAM>  Slack incoming webhook for a team (TEAM = group
                                 name upper-cased, e.g. FINANCE_RISK)
PROMETHEUS_SLACK_WEBHOOK         Slack webhook for teams without their own
PROMETHEUS_WEBHOOK_URL_<TEAM>    generic JSON webhook for a team
PROMETHEUS_WEBHOOK_URL           generic JSON webhook for teams without their own
PROMETHEUS_WEBHOOK_TOKEN         optional bearer token for the generic webhook
PROMETHEUS_SMTP_HOST / _PORT     SMTP server (port default 25)
PROMETHEUS_SMTP_USER / _PASSWORD optional login (STARTTLS is used when set)
PROMETHEUS_SMTP_STARTTLS         1/0 to force STARTTLS on or off
PROMETHEUS_SMTP_FROM             sender (default prometheus-notifier@localhost)
PROMETHEUS_NOTIFY_JSONL          JSON-lines file (default artifacts/notifier/notifications.jsonl)
=============================== ==============================================
"""

from __future__ import annotations

import json
import os
import smtplib
import sys
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import TextIO

import requests

from prometheus.notifier.delivery import (
    DeliveryError,
    Destination,
    RetryPolicy,
    post_json,
    with_retries,
)
from prometheus.notifier.routing import Message, render_text

CHANNELS = ("stdout", "jsonl", "slack", "webhook", "email")
DEFAULT_JSONL = "artifacts/notifier/notifications.jsonl"
DEFAULT_FALLBACK_JSONL = "artifacts/notifier/undelivered.jsonl"


class ChannelConfigError(Exception):
    """A channel was asked for but its environment is incomplete."""


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
            from prometheus.notifier.delivery import http_session

            self._session = http_session(self.policy)
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

    def destination(self, channel: str, message: Message) -> Destination:
        """The destination of ``message`` on ``channel``; ChannelConfigError if the
        environment does not say where."""
        builder: Callable[[Message], Destination] = getattr(self, f"_{channel}")
        return builder(message)

    # stdout: the dry run, nothing remembered
    def _stdout(self, message: Message) -> Destination:
        def send(msg: Message) -> None:
            out = self.stdout or sys.stdout
            out.write(render_text(msg) + "\n" + "-" * 72 + "\n")
            out.flush()

        return Destination("stdout", "stdout (dry run)", send, record=False)

    def _jsonl(self, message: Message) -> Destination:
        path = self.jsonl_path
        return Destination(f"jsonl:{message.team}", f"jsonl file {path}", self._append(path))

    def fallback(self, failed: Destination) -> Destination:
        path = self.fallback_path
        write = self._append(path, extra={"undelivered_to": failed.name})
        return Destination(f"fallback:{failed.name}", f"fallback file {path}", write)

    @staticmethod
    def _append(path: Path, extra: Mapping[str, str] | None = None) -> Callable[[Message], None]:
        def send(message: Message) -> None:
            line = json.dumps({**message.to_dict(), **(extra or {})}, sort_keys=True, default=str)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise DeliveryError(f"cannot append to {path}: {exc.strerror}") from None

        return send

    def _slack(self, message: Message) -> Destination:
        team_var = team_env("PROMETHEUS_SLACK_WEBHOOK", message.team)
        found = self._secret(team_var, "PROMETHEUS_SLACK_WEBHOOK")
        if found is None:
            raise ChannelConfigError(f"slack: set {team_var} or PROMETHEUS_SLACK_WEBHOOK")
        var, url = found

        def send(msg: Message) -> None:
            text = render_text(msg)
            payload = {
                "text": msg.title,
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": msg.title[:150]}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": f"```{text[:2900]}```"}},
                ],
            }
            post_json(
                self.session, url, payload, self.policy, headers={"Idempotency-Key": msg.dedup_key}
            )

        return Destination(f"slack:{message.team}", f"Slack webhook ${var}", send)

    def _webhook(self, message: Message) -> Destination:
        team_var = team_env("PROMETHEUS_WEBHOOK_URL", message.team)
        found = self._secret(team_var, "PROMETHEUS_WEBHOOK_URL")
        if found is None:
            raise ChannelConfigError(f"webhook: set {team_var} or PROMETHEUS_WEBHOOK_URL")
        var, url = found
        token = self._secret("PROMETHEUS_WEBHOOK_TOKEN")
        headers = {"Idempotency-Key": message.dedup_key}
        if token is not None:
            headers["Authorization"] = f"Bearer {token[1]}"

        def send(msg: Message) -> None:
            post_json(self.session, url, msg.to_dict(), self.policy, headers=headers)

        return Destination(f"webhook:{message.team}", f"JSON webhook ${var}", send)

    def _email(self, message: Message) -> Destination:
        host = self.env.get("PROMETHEUS_SMTP_HOST")
        if not host:
            raise ChannelConfigError("email: set PROMETHEUS_SMTP_HOST (and _PORT, _FROM, ...)")
        if not message.email:
            raise ChannelConfigError(f"email: team {message.team} has no e-mail in its meta")
        try:
            port = int(self.env.get("PROMETHEUS_SMTP_PORT") or 25)
        except ValueError:
            raise ChannelConfigError("email: PROMETHEUS_SMTP_PORT is not a number") from None
        user = self.env.get("PROMETHEUS_SMTP_USER") or None
        password = self.redact.add(self.env.get("PROMETHEUS_SMTP_PASSWORD") or None)
        starttls_env = self.env.get("PROMETHEUS_SMTP_STARTTLS")
        starttls = bool(user) if starttls_env is None else starttls_env not in ("0", "false", "")
        sender = self.env.get("PROMETHEUS_SMTP_FROM") or "prometheus-notifier@localhost"
        recipient = message.email
        policy = self.policy

        def send(msg: Message) -> None:
            email = EmailMessage()
            email["Subject"] = msg.title
            email["From"] = sender
            email["To"] = recipient
            # same id for the same failure: mail systems can dedupe a resend
            email["Message-ID"] = f"<{msg.dedup_key.replace(':', '.')}@prometheus-notifier>"
            email["X-Prometheus-Dedup-Key"] = msg.dedup_key
            email.set_content(render_text(msg, max_rows=5))

            def attempt() -> None:
                with smtplib.SMTP(host, port, timeout=policy.timeout) as smtp:
                    if starttls:
                        smtp.starttls()
                    if user and password:
                        smtp.login(user, password)
                    smtp.send_message(email)

            with_retries(attempt, policy)

        return Destination(
            f"email:{message.team}", f"e-mail to {recipient} via $PROMETHEUS_SMTP_HOST", send
        )
