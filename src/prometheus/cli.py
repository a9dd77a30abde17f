"""`prometheus` command line: one sub-command per module, imported only when it runs.

Each sub-command lives in its own module, which exposes
``add_arguments(parser)`` and ``run(args) -> int``. Adding a command means
adding one line to ``COMMANDS``; this file holds no logic of its own.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from prometheus import logs
from prometheus.errors import CliError

log = logs.get(__name__)

# sub-command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("prometheus.generator.cli", "write synthetic upstream Parquet files"),
    "notify": ("prometheus.notifier.cli", "send dbt failures to owners and on-call"),
    "oncall": ("prometheus.notifier.oncall_cli", "print who is on call per pipeline, next weeks"),
    "validate-oncall": ("prometheus.notifier.validate_cli", "check owners/on-call in the manifest"),
    "check-gates": (
        "prometheus.governance.gates_cli",
        "check that every blocking test holds back the marts it protects",
    ),
    "observe": ("prometheus.observability.observe_cli", "store dbt run results in the run history"),
    "publish": ("prometheus.publish", "publish the public marts to the analysts' read-only copy"),
    "report": ("prometheus.observability.report_cli", "build or serve the Elementary report"),
    "daily": ("prometheus.daily.cli", "the morning run: build only what new data changed"),
    "bench": ("prometheus.bench.cli", "time generate, build, the DuckDB floor, incremental runs"),
    "pack": ("prometheus.reports.pack_cli", "write the monthly investor pack as one HTML page"),
    "readout": ("prometheus.reports.readout_cli", "write an experiment's readout as one HTML page"),
}


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The first argument that names a command (options before it are the top level's)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(
    argv: Sequence[str] = (),
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser; only the module of the command named in ``argv`` is imported."""
    doc = (__doc__ or "prometheus").splitlines()[0]
    parser = argparse.ArgumentParser(prog="prometheus", description=doc, allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = _chosen_command(argv)
    parsers: dict[str, argparse.ArgumentParser] = {}
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(
            name, help=help_text, description=help_text, allow_abbrev=False
        )
        parsers[name] = command_parser
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(command_parser)
            command_parser.set_defaults(_run=module.run)
    return parser, parsers


def _chosen_parser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The innermost parser ``args`` went through (``report build``, not ``report``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(args, action.dest, None) or "")
            if chosen is not None:
                return _chosen_parser(chosen, args)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, parsers = build_parser(argv)
    args, extra = parser.parse_known_args(argv)
    if extra:
        # an unknown option belongs to the sub-command: show its usage, not the top level's
        _chosen_parser(parsers[args.command], args).error(
            f"unrecognized arguments: {' '.join(extra)}"
        )
    if not sys.stdout.isatty():
        # plain logs in files and CI: the dbt processes a command starts print no ANSI colours
        # (dbt_project.yml asks for colours, for terminals; the variable overrides it)
        os.environ.setdefault("DBT_USE_COLORS", "false")
    try:
        logs.setup(args.command)
        return int(args._run(args))
    except CliError as exc:
        log.error("%s", exc)  # "prometheus <command>: error: <message>" (logs.FORMAT)
        return 2


if __name__ == "__main__":
    sys.exit(main())
