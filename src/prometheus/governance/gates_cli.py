"""`prometheus check-gates`: every blocking test on an audited model's inputs holds its mart back.

Exit 0 when the gate holds for every published mart, 1 when a test would let
bad numbers through (each gap printed with the fix), 2 on a bad manifest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prometheus.artifacts import ArtifactError, read_manifest
from prometheus.errors import CliError
from prometheus.governance import gates


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--manifest",
        type=Path,
        default=Path("target/manifest.json"),
        help="dbt's manifest.json (default: target/manifest.json)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        manifest = read_manifest(args.manifest)
    except ArtifactError as exc:
        raise CliError(str(exc)) from exc
    problems = [g.describe() for g in gates.gate_gaps(manifest)]
    problems += gates.unexplained_partials(manifest)
    for line in gates.summary(manifest):
        print(line)
    if not gates.protected_marts(manifest):
        raise CliError(f"{args.manifest}: no mart is built from an int_*_audited model")
    for problem in problems:
        print(f"GAP {problem}")
    print(f"{len(problems)} gap(s) in the publication gate")
    return 1 if problems else 0
