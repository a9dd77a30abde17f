"""``prometheus generate``: write the synthetic upstream Parquet files (see raw-contract.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from .defects import DEFECTS, UnknownDefect
from .params import ParamError, add_date_arguments, make_params
from .writer import OutputError, check_out_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale",
        default="1",
        help="size factor; 1 = ~100k users, ~1M orders, ~10M events (default 1)",
    )
    parser.add_argument("--seed", default="7", help="random seed (default 7)")
    add_date_arguments(parser)
    parser.add_argument(
        "--out", default=None, help="output folder (default: $PROMETHEUS_RAW_DIR, else data/raw)"
    )
    parser.add_argument(
        "--defect",
        action="append",
        default=[],
        metavar="NAME",
        help="inject a named defect (repeatable); known: " + (", ".join(DEFECTS) or "none yet"),
    )
    parser.add_argument(
        "--workers",
        default=None,
        help="threads building event months and writing tables (default: min(2, CPUs), "
        "less the CPUs busy with other jobs); the output does not depend on it",
    )


def parse_workers(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        n = int(text)
    except ValueError:
        raise ParamError(f"workers {text!r} is not an integer") from None
    if n < 1:
        raise ParamError(f"workers must be >= 1, got {n}")
    return n


def run(args: argparse.Namespace) -> int:
    from prometheus import settings
    from prometheus.errors import CliError

    today = dt.datetime.now(dt.UTC).date()
    out = Path(args.out) if args.out else settings.load().raw_dir
    try:
        params = make_params(args.scale, args.seed, args.start, args.end, today, tuple(args.defect))
        workers = parse_workers(args.workers)
        from .defects import resolve

        resolve(params.defects)
        check_out_dir(out)
    except (ParamError, OutputError, UnknownDefect) as exc:
        raise CliError(str(exc)) from None

    from .pipeline import generate

    try:
        generate(params, out, stderr=sys.stderr, workers=workers)
    except OSError as exc:
        raise CliError(f"writing {out} failed: {exc}") from exc
    return 0
