"""`prometheus` command line: one sub-command per module, loaded lazily.

Each sub-command lives in its own module, which exposes
``add_arguments(parser)`` and ``run(args) -> int``. Adding a command means
adding one line to ``COMMANDS``; this file holds no logic of its own.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# sub-command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("prometheus.generator.cli", "write synthetic upstream Parquet files"),
    "notify": ("prometheus.notifier.cli", "send dbt failures to owners and on-call"),
    "oncall": ("prometheus.notifier.oncall_cli", "print who is on call per pipeline, next weeks"),
    "validate-oncall": ("prometheus.notifier.validate_cli", "check owners/on-call in the manifest"),
    "observe": ("prometheus.observability.observe_cli", "store dbt run results in the run history"),
    "report": ("prometheus.observability.report_cli", "build or serve the Elementary report"),
    "daily": ("prometheus.daily.cli", "the morning run: build only what new data changed"),
    "bench": ("prometheus.bench.cli", "time generate, build, the DuckDB floor, incremental runs"),
}


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="prometheus", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except CliError as exc:
        print(f"prometheus {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # `python -m prometheus.cli` runs this file as __main__: use the imported
    # module, so a command's `prometheus.cli.CliError` is the one caught here
    from prometheus.cli import main as imported_main

    sys.exit(imported_main())
