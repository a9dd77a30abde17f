"""Logging with one format for every command: ``prometheus <command>: <level>: <message>``.

Messages go to standard error; colour is never used, so logs read the same in a
terminal and in CI. ``PROMETHEUS_LOG_LEVEL`` (prometheus.settings, default INFO) sets
the level.
"""

from __future__ import annotations

import logging
import sys

from prometheus import settings

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
    """Route the ``prometheus`` loggers to standard error in the one format.

    A bad PROMETHEUS_LOG_LEVEL raises SettingsError once the handler is in place (at INFO),
    so the error itself is logged in the format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(command))
    root = logging.getLogger("prometheus")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(logging.INFO)
    root.setLevel(level.upper() if level else settings.log_level())


def get(name: str) -> logging.Logger:
    """The logger of a module (pass ``__name__``)."""
    return logging.getLogger(name)
