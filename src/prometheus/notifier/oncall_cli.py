"""`prometheus oncall`: who is on call for each pipeline over the next weeks."""

from prometheus.notifier.cli import add_oncall_arguments as add_arguments
from prometheus.notifier.cli import run_oncall as run

__all__ = ["add_arguments", "run"]
