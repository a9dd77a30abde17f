"""``prometheus daily``: the morning run, building only what new data changed.

    prometheus daily [--state-dir warehouse/state] [--target-dir target]
                     [--vars '{as_of: ...}'] [--full] [--no-history] [-- DBT BUILD ARGS]

1. ``dbt source freshness`` records each source's latest ``_loaded_at`` in
   ``<target>/sources.json`` (stale sources make dbt exit 1: reported, not fatal;
   the notifier and the report show them).
2. Sources loaded since the last successful run (``<state>/sources.json``) are
   built with everything downstream (``dbt build --select source_status:fresher+``),
   incremental models merging only the new rows; with no stored state, or
   ``--full``, everything is built.
3. The build's results go to the run history (``prometheus observe ingest``)
   unless ``--no-history``.
4. Only after a successful build is today's ``sources.json`` stored as the state,
   so a failed day is rebuilt the next morning.

Exit code: dbt build's (0 also when nothing had new data), 2 for bad
arguments, unreadable state or a freshness run that wrote no results.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from prometheus import logs, settings
from prometheus.daily.plan import (
    StateError,
    fresher_sources,
    plan_build,
    read_max_loaded_at,
    window_starts,
)
from prometheus.errors import CliError

SOURCES = "sources.json"

log = logs.get(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where the last successful run's sources.json is kept "
        f"(default $PROMETHEUS_STATE_DIR or {settings.DEFAULTS['PROMETHEUS_STATE_DIR']})",
    )
    parser.add_argument(
        "--target-dir",
        type=Path,
        default=Path("target"),
        help="dbt target folder for both dbt calls' artifacts (default: target)",
    )
    parser.add_argument("--vars", help="dbt --vars for both dbt calls (YAML/JSON)")
    parser.add_argument("--full", action="store_true", help="build everything")
    parser.add_argument(
        "--lookback-days",
        type=int,
        default=3,
        help="tests on event-scale tables check rows loaded since the last run minus this "
        "(default 3, as the var events_lookback_days)",
    )
    parser.add_argument(
        "--no-history", action="store_true", help="do not store the results in the run history"
    )
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help="more dbt build args, after --")


class _Dbt:
    """dbt invoked in this process: one import, one parse for every call of the run."""

    def __init__(self, common: list[str]) -> None:
        from dbt.cli.main import dbtRunner  # noqa: PLC0415 - keeps `prometheus --help` light
        from dbt.contracts.graph.manifest import Manifest  # noqa: PLC0415

        self.common = common
        parsed = dbtRunner().invoke(["parse", *common])
        if parsed.exception is not None or not parsed.success:
            raise CliError(f"dbt parse failed: {parsed.exception or 'see the log above'}")
        if not isinstance(parsed.result, Manifest):
            raise CliError("dbt parse returned no manifest")
        self.runner = dbtRunner(manifest=parsed.result)

    def __call__(self, *args: str) -> int:
        """dbt's exit code: 0 success, 1 failures (tests, stale sources), 2 an error."""
        result = self.runner.invoke([*args, *self.common])
        if result.exception is not None:
            return 2
        return 0 if result.success else 1


def _parse_vars(text: str | None) -> dict[str, object]:
    """--vars as dbt reads it (YAML or JSON), a mapping."""
    if not text:
        return {}
    import yaml  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415 - dbt's dependency

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f"--vars is not YAML/JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CliError(f"--vars must be a mapping, got {text!r}")
    return value


def _store_state(source: Path, state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / f".{SOURCES}.tmp"
    shutil.copyfile(source, tmp)
    os.replace(tmp, state_dir / SOURCES)  # atomic: the old state or the new one


def run(args: argparse.Namespace) -> int:
    extra = list(args.dbt_args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    if args.state_dir is None:
        args.state_dir = settings.load().state_dir
    if args.state_dir.exists() and not args.state_dir.is_dir():
        raise CliError(f"--state-dir {args.state_dir} exists and is not a directory")
    if args.target_dir.resolve() == args.state_dir.resolve():
        raise CliError("--state-dir must differ from --target-dir (dbt overwrites the target)")
    if args.lookback_days < 0:
        raise CliError("--lookback-days must be 0 or more")
    dbt_vars = _parse_vars(args.vars)
    target = ["--target-path", str(args.target_dir)]

    state_path = args.state_dir / SOURCES
    has_state = state_path.is_file()
    try:  # a bad state stops the run before dbt touches the warehouse
        previous = read_max_loaded_at(state_path) if has_state else None
    except StateError as exc:
        raise CliError(f"state: {exc}") from None

    if previous is not None and not args.full:
        # tests on event-scale tables check the rows loaded since the last run
        # (macro daily_window); known from the state, so dbt parses once
        dbt_vars["daily_window_start"] = window_starts(previous, args.lookback_days)
    common = [*target, "--vars", json.dumps(dbt_vars)] if dbt_vars else target

    current_path = args.target_dir / SOURCES
    current_path.unlink(missing_ok=True)  # never compare against yesterday's file
    dbt = _Dbt(common)
    log.info("dbt source freshness")
    freshness = dbt("source", "freshness")
    if not current_path.is_file():
        raise CliError(f"dbt source freshness (exit {freshness}) wrote no {current_path}")
    try:
        current = read_max_loaded_at(current_path)
    except StateError as exc:
        raise CliError(str(exc)) from None
    fresher = fresher_sources(previous, current) if previous is not None else None

    plan = plan_build(args.state_dir, has_state, fresher, args.full)
    if plan is None:
        print(f"daily: no source has new data since {state_path}: nothing to build")
        return 0
    print(f"daily: {plan.reason}", flush=True)
    build = dbt(*plan.build_args, *extra)
    if not args.no_history:
        ingest = [sys.executable, "-m", "prometheus.cli", "observe", "ingest"]
        subprocess.run([*ingest, "--target-dir", str(args.target_dir)], check=False)
    if build != 0:
        log.error(
            "dbt build failed (exit %s); state kept at %s, so the next run builds these "
            "sources again",
            build,
            state_path,
        )
        return build
    _store_state(current_path, args.state_dir)
    print(f"daily: done; state stored in {state_path}")
    return 0
