"""Fault servers on 127.0.0.1 for the notifier's tests (started by the tests)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """Answers each POST with the next scripted action: an int status, ("retry-after",
    seconds), "hang" (sleep past the client's time-out, then close without an
    answer), "late" (take the message, answer 200 after the client's time-out),
    ("slow", seconds) (take it, answer 200 after that long), or 200 forever once the
    script runs out. ``delivered`` holds every body it took."""

    def __init__(self, script: list[object], port: int = 0, hang: float = 1.0) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.delivered: list[Any] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    action = outer.script.pop(0) if outer.script else 200
                    outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                           "body": body})  # fmt: skip
                if action == "hang":
                    time.sleep(hang)
                    self.close_connection = True
                    return
                status: object = action
                headers: dict[str, str] = {}
                if action == "late" or (isinstance(action, tuple) and action[0] == "slow"):
                    with outer.lock:
                        outer.delivered.append(body)  # the receiver has it...
                    time.sleep(hang if action == "late" else float(action[1]))  # type: ignore[index]
                    status = 200  # ...and answers too late (or just slowly)
                elif isinstance(action, tuple):
                    status, headers = 429, {"Retry-After": str(action[1])}
                elif status == 200:
                    with outer.lock:
                        outer.delivered.append(body)
                try:
                    self.send_response(int(status))  # type: ignore[call-overload]
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class PagerDuty(Server):
    """A PagerDuty-shaped Events API v2 endpoint: 202 with the dedup key, 400 on a
    malformed event; ``alerts`` is the state per dedup key, as PagerDuty keeps it
    (a repeated trigger of an open alert is deduplicated, not a new page)."""

    def __init__(self, script: list[object] | None = None, port: int = 0) -> None:
        super().__init__(script or [], port)
        self.alerts: dict[str, str] = {}
        self.pages = 0  # triggers that opened (or re-opened) an alert
        self.invalid: list[Any] = []

    def apply(self) -> None:
        """Fold every delivered event into ``alerts`` (call after the runs)."""
        self.alerts.clear()
        self.pages = 0
        for event in self.delivered:
            key, action = event.get("dedup_key"), event.get("event_action")
            ok = (
                isinstance(key, str) and action in ("trigger", "acknowledge", "resolve")
                and isinstance(event.get("routing_key"), str) and len(event["routing_key"]) == 32
                and (action != "trigger" or {"summary", "source", "severity"}
                     <= set(event.get("payload", {})))
            )  # fmt: skip
            if not ok:
                self.invalid.append(event)
                continue
            if action == "trigger":
                if self.alerts.get(key) not in ("triggered", "acknowledged"):
                    self.pages += 1
                self.alerts[key] = (
                    "acknowledged" if self.alerts.get(key) == "acknowledged" else "triggered"
                )
            elif action == "acknowledge" and key in self.alerts:
                self.alerts[key] = "acknowledged"
            elif action == "resolve" and key in self.alerts:
                self.alerts[key] = "resolved"
