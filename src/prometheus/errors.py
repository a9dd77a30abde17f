"""The project's exceptions, in one place, so no command imports them back from the dispatcher."""

from __future__ import annotations


class PrometheusError(Exception):
    """Base class of every error the project raises on purpose."""


class CliError(PrometheusError):
    """A user-facing error: printed without a traceback, exit code 2."""


class SettingsError(CliError):
    """An environment variable or setting has a value the project cannot use."""
