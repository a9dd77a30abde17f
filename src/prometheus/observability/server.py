"""Serve a built report on 127.0.0.1 only (its lineage view needs http, not file://)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"


class _Handler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def make_server(directory: Path, port: int = 8080) -> ThreadingHTTPServer:
    """A server for `directory` on 127.0.0.1:`port` (0: any free port); not started yet."""
    handler = functools.partial(_Handler, directory=str(directory))
    return ThreadingHTTPServer((HOST, port), handler)


def url_of(server: ThreadingHTTPServer) -> str:
    return f"http://{HOST}:{server.server_address[1]}/"
