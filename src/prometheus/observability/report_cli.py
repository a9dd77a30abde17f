"""`prometheus report`: build Elementary's HTML report offline, or serve it.

    prometheus report build --target-dir target --out artifacts/report/index.html [--runs 30]
    prometheus report serve --dir artifacts/report --port 8080

`build` reads the project's manifest from the target directory and the last
N runs from the warehouse's run history (`prometheus observe`), and writes
Elementary's own report page with that data in it. `serve` serves a
directory on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from prometheus import settings
from prometheus.errors import CliError
from prometheus.observability import history

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="report_command", required=True, metavar="ACTION")

    build = sub.add_parser("build", help="write the report's index.html", allow_abbrev=False)
    build.add_argument(
        "--target-dir",
        type=Path,
        default=Path("target"),
        help="dbt target directory holding manifest.json (default: target)",
    )
    build.add_argument(
        "--out",
        type=Path,
        default=Path("artifacts/report/index.html"),
        help="the report file to write (default: artifacts/report/index.html)",
    )
    build.add_argument(
        "--runs",
        type=int,
        default=30,
        help="show the last N runs of each test and model (default: 30)",
    )
    build.add_argument(
        "--days-back", type=int, default=30, help="and only runs of the last N days (default: 30)"
    )
    build.add_argument("--env", default="dev", help="environment shown in the report (dev)")
    build.add_argument(
        "--duckdb-path",
        default=None,
        help="warehouse file (default: $PROMETHEUS_DUCKDB_PATH or "
        f"{settings.DEFAULTS['PROMETHEUS_DUCKDB_PATH']})",
    )
    build.set_defaults(_report=_run_build)

    serve = sub.add_parser("serve", help="serve a built report on 127.0.0.1", allow_abbrev=False)
    serve.add_argument(
        "--dir",
        type=Path,
        default=Path("artifacts/report"),
        help="the folder holding the built index.html (default: artifacts/report)",
    )
    serve.add_argument("--port", type=int, default=8080, help="0: any free port (default: 8080)")
    serve.set_defaults(_report=_run_serve)


def run(args: argparse.Namespace) -> int:
    return int(args._report(args))


def _run_build(args: argparse.Namespace) -> int:
    # elementary is imported here, not at start-up: it is slow to import
    from prometheus.artifacts import ArtifactError, read_manifest
    from prometheus.observability.elementary_adapter import (
        ReportError,
        build_report_data,
        render_html,
    )

    if args.runs < 1 or args.days_back < 1:
        raise CliError("--runs and --days-back must be at least 1")
    if args.out.suffix not in (".html", ".htm"):
        raise CliError("--out must end with .html")
    started = time.perf_counter()
    try:
        manifest = read_manifest(args.target_dir / "manifest.json")
    except ArtifactError as exc:
        raise CliError(f"{exc} (run `dbt build` or `dbt parse` first)") from exc
    from prometheus.observability.evidence import read_evidence

    db_path = history.duckdb_path(args.duckdb_path)
    try:
        with history.connect(db_path, read_only=True) as conn:
            if not history.has_history(conn):
                log.warning(
                    "no run history in %s yet (store runs with `prometheus observe`)", db_path
                )
            runs = history.read_history(conn, runs=args.runs, days_back=args.days_back)
            evidence = read_evidence(conn, manifest, latest_that_ran(runs))
    except history.HistoryError as exc:
        raise CliError(str(exc)) from exc
    try:
        data = build_report_data(
            manifest,
            runs,
            runs=args.runs,
            days_back=args.days_back,
            env=args.env,
            evidence=evidence,
        )
    except ReportError as exc:
        raise CliError(str(exc)) from exc
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_html(data), encoding="utf-8")
    elapsed = time.perf_counter() - started
    tests = len(data["tests"])
    stored = len(history_ids(runs))
    print(
        f"report: {args.out.resolve()} ({tests} test{'s' * (tests != 1)}, "
        f"{stored} stored run{'s' * (stored != 1)} in the last {args.days_back} days, "
        f"built in {elapsed:.1f}s)"
    )
    print(f"report: serve it with `.venv/bin/prometheus report serve --dir {args.out.parent}`")
    return 0


def latest_that_ran(runs: history.History) -> dict[str, dict[str, Any]]:
    """The latest stored result of each test that was not skipped."""
    latest: dict[str, dict[str, Any]] = {}
    for row in runs.test_results:  # ordered by time within each test
        if row["status"] != "skipped":
            latest[row["test_unique_id"]] = row
    return latest


def history_ids(runs: history.History) -> set[str]:
    return {row["invocation_id"] for row in runs.invocations}


def _run_serve(args: argparse.Namespace) -> int:
    from prometheus.observability.server import make_server, url_of

    index = args.dir / "index.html"
    if not index.is_file():
        raise CliError(f"{index} not found: run `.venv/bin/prometheus report build` first")
    try:
        server = make_server(args.dir, args.port)
    except OSError as exc:
        raise CliError(f"cannot listen on 127.0.0.1:{args.port}: {exc}") from exc
    print(f"report: serving {args.dir} at {url_of(server)} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
