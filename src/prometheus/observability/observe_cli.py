"""`prometheus observe`: store dbt's results in the warehouse's run history.

    prometheus observe ingest --target-dir target
    prometheus observe dbt -- build --select marts
    prometheus observe dbt -- source freshness

`observe dbt` runs dbt with the given arguments, then stores what it wrote.
Its exit code is dbt's own whenever dbt failed, so storing never hides a
failed build; when dbt succeeded but storing failed it exits 3 (the error
is on stderr). `observe ingest` exits 0 when the run is stored (or was
already), 2 when the artifacts cannot be read, 3 when storing failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from prometheus import settings
from prometheus.artifacts import ArtifactError, TargetArtifacts, load_target
from prometheus.errors import CliError
from prometheus.observability import history

log = logging.getLogger(__name__)

EXIT_STORE_FAILED = 3
_ARTIFACT_FILES = ("run_results.json", "sources.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="observe_command", required=True, metavar="ACTION")

    ingest = sub.add_parser(
        "ingest", help="store a finished dbt run's artifacts", allow_abbrev=False
    )
    ingest.add_argument(
        "--target-dir",
        type=Path,
        default=Path("target"),
        help="dbt target folder with run_results.json or sources.json (default: target)",
    )
    _add_duckdb_path(ingest)
    ingest.set_defaults(_observe=_run_ingest)

    wrap = sub.add_parser(
        "dbt",
        help="run dbt, then store its results (exit: dbt's code if it failed, 3 if storing failed)",
        allow_abbrev=False,
    )
    _add_duckdb_path(wrap)
    wrap.add_argument("dbt_args", nargs=argparse.REMAINDER, help="arguments for dbt, after --")
    wrap.set_defaults(_observe=_run_dbt)


def _add_duckdb_path(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duckdb-path",
        default=None,
        help="warehouse file (default: $PROMETHEUS_DUCKDB_PATH or "
        f"{settings.DEFAULTS['PROMETHEUS_DUCKDB_PATH']})",
    )


def run(args: argparse.Namespace) -> int:
    return int(args._observe(args))


def store(target_dir: Path, duckdb_path: Path, skip_invocations: set[str] | None = None) -> int:
    """Ingest a target directory; print what was stored. Exit code 0 or 3."""
    artifacts = load_target(target_dir)
    if skip_invocations:
        artifacts = TargetArtifacts(
            manifest=artifacts.manifest,
            run_results=None
            if artifacts.run_results and artifacts.run_results.invocation_id in skip_invocations
            else artifacts.run_results,
            sources=None
            if artifacts.sources and artifacts.sources.invocation_id in skip_invocations
            else artifacts.sources,
        )
    try:
        with history.connect(duckdb_path) as conn:
            outcomes = history.ingest(conn, artifacts)
    except (history.HistoryError, duckdb.Error) as exc:
        log.error("run history not stored in %s: %s", duckdb_path, exc)
        return EXIT_STORE_FAILED
    for outcome in outcomes:
        print(f"observe: {outcome.describe()} ({duckdb_path}, schema {history.SCHEMA})")
    return 0


def _run_ingest(args: argparse.Namespace) -> int:
    try:
        return store(args.target_dir, history.duckdb_path(args.duckdb_path))
    except ArtifactError as exc:
        raise CliError(str(exc)) from exc


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def target_dir_for(dbt_args: list[str], env: dict[str, str] | None = None) -> Path:
    """Where dbt writes its artifacts for these arguments, as dbt decides it."""
    env = dict(os.environ) if env is None else env
    target = _option(dbt_args, "--target-path") or env.get("DBT_TARGET_PATH") or "target"
    if Path(target).is_absolute():
        return Path(target)
    project_dir = _option(dbt_args, "--project-dir") or env.get("DBT_PROJECT_DIR") or "."
    return Path(project_dir) / target


def _invocation_ids(target_dir: Path) -> set[str]:
    ids = set()
    for name in _ARTIFACT_FILES:
        try:
            data = json.loads((target_dir / name).read_text(encoding="utf-8"))
            ids.add(str(data["metadata"]["invocation_id"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return ids


def _dbt_executable() -> str:
    beside = Path(sys.executable).parent / "dbt"
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise CliError("dbt is not installed in this environment")
    return found


def _run_dbt(args: argparse.Namespace) -> int:
    dbt_args = (
        [a for a in args.dbt_args if a != "--"]
        if args.dbt_args[:1] == ["--"]
        else list(args.dbt_args)
    )
    if not dbt_args:
        raise CliError("give dbt's arguments after --, e.g. `prometheus observe dbt -- build`")
    target_dir = target_dir_for(dbt_args)
    before = _invocation_ids(target_dir)
    dbt_code = subprocess.call([_dbt_executable(), *dbt_args])
    if not (_invocation_ids(target_dir) - before):
        log.warning(
            "dbt wrote no new run_results.json/sources.json in %s; nothing to store", target_dir
        )
        return dbt_code
    try:
        store_code = store(target_dir, history.duckdb_path(args.duckdb_path), before)
    except ArtifactError as exc:
        log.error("run history not stored: %s", exc)
        store_code = EXIT_STORE_FAILED
    return dbt_code if dbt_code != 0 else store_code
