"""`prometheus validate-oncall`: check owners and on-call rules against the manifest."""

from prometheus.notifier.cli import add_validate_arguments as add_arguments
from prometheus.notifier.cli import run_validate as run

__all__ = ["add_arguments", "run"]
