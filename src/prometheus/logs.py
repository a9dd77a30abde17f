"""Logging with one format for every command: ``prometheus <command>: <level>: <message>``.

Messages go to standard error; colour is never used, so logs read the same in a
terminal and in CI. ``PROMETHEUS_LOG_LEVEL`` (default INFO) sets the level.
"""

from __future__ import annotations

import logging
import os
import sys

FORMAT = "prometheus %(command)s: %(levelname_lower)s: %(message)s"


class _Formatter(logging.Formatter):
    def __init__(self, command: str) -> None:
        super().__init__(FORMAT)
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        record.command = self.command
        record.levelname_lower = record.levelname.lower()
        return super().format(record)


def setup(command: str, level: str | None = None) -> None:
    """Route the ``prometheus`` loggers to standard error in the one format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(command))
    root = logging.getLogger("prometheus")
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("PROMETHEUS_LOG_LEVEL") or "INFO").upper())
    root.propagate = False


def get(name: str) -> logging.Logger:
    """The logger of a module (pass ``__name__``)."""
    return logging.getLogger(name)
