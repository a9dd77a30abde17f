"""`prometheus notify`, `prometheus oncall`, `prometheus validate-oncall`.

This module is the ``notify`` sub-command (``add_arguments``/``run``); ``oncall_cli``
and ``validate_cli`` expose the other two through the functions below.

Exit codes of ``notify``: 0 every message delivered (or suppressed as already
sent), 2 bad input (nothing sent), 3 some message reached only the fallback
channel, 4 some message reached nobody.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus import artifacts
from prometheus.errors import CliError
from prometheus.notifier import ownership, routing, schedules, stored_failures
from prometheus.notifier.channels import CHANNELS, ChannelConfigError, Channels
from prometheus.notifier.delivery import Destination, RetryPolicy, deliver, exit_code
from prometheus.notifier.state import DEFAULT_STATE_FILE, SentLog, StateError

EXIT_INVALID_CONFIG = 1


def parse_at(value: str | None) -> datetime:
    """ISO instant; without an offset it is UTC. Default: now."""
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(
            f"--at {value!r}: not an ISO date-time (e.g. 2026-01-28T12:00:00Z)"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _load_config(manifest: artifacts.Manifest) -> ownership.OnCallConfig:
    try:
        return ownership.load(manifest)
    except ownership.ConfigError as exc:
        raise CliError(
            f"invalid on-call configuration ({len(exc.issues)} issue(s)); "
            f"run `.venv/bin/prometheus validate-oncall`:\n{exc}"
        ) from None


# ----------------------------------------------------------------------- notify


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target-dir",
        type=Path,
        default=Path("target"),
        help="dbt target dir with manifest.json and run_results.json (default target)",
    )
    parser.add_argument(
        "--at", help="ISO instant for on-call and suppression (default now; no offset = UTC)"
    )
    parser.add_argument(
        "--channel",
        action="append",
        choices=CHANNELS,
        dest="channels",
        help="where to send; repeatable (default stdout, a dry run)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=Path(DEFAULT_STATE_FILE),
        help=f"what was already sent (default {DEFAULT_STATE_FILE})",
    )
    parser.add_argument(
        "--jsonl-path",
        type=Path,
        help="file for --channel jsonl (default $PROMETHEUS_NOTIFY_JSONL)",
    )
    parser.add_argument(
        "--fallback-path",
        type=Path,
        help="where refused messages go (default artifacts/notifier/undelivered.jsonl)",
    )
    parser.add_argument("--no-fallback", action="store_true", help="no fallback channel")
    parser.add_argument(
        "--duckdb-path",
        type=Path,
        help="warehouse for stored failing rows (default $PROMETHEUS_DUCKDB_PATH)",
    )
    parser.add_argument(
        "--sample-rows", type=int, default=3, help="stored failing rows per test (default 3)"
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per request (default 10)"
    )
    parser.add_argument(
        "--attempts", type=int, default=4, help="requests per destination (default 4)"
    )
    parser.add_argument(
        "--backoff", type=float, default=0.5, help="first retry delay, doubling (default 0.5 s)"
    )
    parser.add_argument(
        "--retry-after-max",
        type=float,
        default=30.0,
        help="cap on Retry-After waits (default 30 s)",
    )


def build_messages(
    target_dir: Path, at: datetime, duckdb_path: Path | None, sample_rows: int
) -> tuple[routing.Routing, list[str]]:
    try:
        run = artifacts.load_run(target_dir)
    except artifacts.ArtifactError as exc:
        raise CliError(str(exc)) from None
    config = _load_config(run.manifest)
    problems = routing.find_problems(run)
    notes = list(run.notes)
    if sample_rows > 0 and problems:
        samples, sample_notes = stored_failures.read_samples(problems, duckdb_path, sample_rows)
        row_counts = stored_failures.read_row_counts(problems, duckdb_path)
        problems = routing.attach_samples(problems, samples, row_counts)
        notes += sample_notes
    return routing.route(run.manifest, config, problems, at, run.invocation_id), notes


def run(args: argparse.Namespace) -> int:
    if args.attempts < 1 or args.timeout <= 0 or args.backoff < 0 or args.sample_rows < 0:
        raise CliError("--attempts must be >= 1, --timeout > 0, --backoff and --sample-rows >= 0")
    at = parse_at(args.at)
    result, notes = build_messages(args.target_dir, at, args.duckdb_path, args.sample_rows)
    for note in notes:
        print(f"notify: note: {note}", file=sys.stderr)
    for problem in result.unrouted:
        print(f"notify: warning: no team owns {problem.unique_id}", file=sys.stderr)
    if not result.messages:
        print("notify: nothing to send", file=sys.stderr)
        return 0
    try:
        log = SentLog.load(args.state_file)
    except StateError as exc:
        raise CliError(str(exc)) from None
    policy = RetryPolicy(
        attempts=args.attempts,
        timeout=args.timeout,
        backoff=args.backoff,
        retry_after_max=args.retry_after_max,
    )
    channels = Channels(policy=policy, jsonl_path=args.jsonl_path, fallback_path=args.fallback_path)
    names = list(dict.fromkeys(args.channels or ["stdout"]))
    # resolve every destination first: a missing variable sends nothing at all
    plan: list[tuple[routing.Message, list[Destination]]] = []
    try:
        for message in result.messages:
            plan.append((message, [channels.destination(name, message) for name in names]))
    except ChannelConfigError as exc:
        raise CliError(str(exc)) from None
    try:
        outcomes = deliver(
            plan,
            None if args.no_fallback else channels.fallback,
            log,
            at,
            channels.redact,
            lambda line: print(f"notify: {channels.redact(line)}", file=sys.stderr),
        )
    finally:
        channels.close()
    code = exit_code(outcomes)
    counts = {
        s: sum(o.status == s for o in outcomes)
        for s in ("sent", "suppressed", "fallback", "failed")
    }
    print(
        "notify: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + f" (exit {code})",
        file=sys.stderr,
    )
    return code


# ----------------------------------------------------------------------- oncall


def add_oncall_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--manifest",
        type=Path,
        default=Path("target/manifest.json"),
        help="dbt manifest with the groups and exposures (default target/manifest.json)",
    )
    parser.add_argument("--weeks", type=int, default=4, help="how far ahead (default 4)")
    parser.add_argument("--at", help="start instant (default now; no offset = UTC)")
    parser.add_argument("--pipeline", action="append", help="only these pipelines (repeatable)")
    parser.add_argument(
        "--now",
        action="store_true",
        help="only who is on call at that instant, one line per pipeline (ignores --weeks)",
    )


def run_oncall(args: argparse.Namespace) -> int:
    if args.weeks < 1:
        raise CliError("--weeks must be >= 1")
    try:
        manifest = artifacts.read_manifest(args.manifest)
    except artifacts.ArtifactError as exc:
        raise CliError(str(exc)) from None
    config = _load_config(manifest)
    start = parse_at(args.at)
    end = start + timedelta(weeks=args.weeks)
    wanted = set(args.pipeline or ())
    unknown = wanted - {p.name for p in config.pipelines}
    if unknown:
        raise CliError(f"unknown pipeline(s): {', '.join(sorted(unknown))}")
    for pipeline in config.pipelines:
        if wanted and pipeline.name not in wanted:
            continue
        owner = config.teams[pipeline.owner].display_name
        second = (
            config.teams[pipeline.secondary_owner].display_name if pipeline.secondary_owner else "-"
        )
        print(f"{pipeline.name} ({pipeline.label}): owner {owner}, secondary {second}")
        for segment in schedules.timeline(pipeline, config.teams, start, end):
            if args.now and segment.start > start:
                break
            active = [d for d in segment.duties if d.active]
            who = "; ".join(
                f"{d.team} {d.schedule.replace('_', ' ')}: "
                + (", ".join(m.name for m in d.people) or "nobody")
                + (f" [{d.note}]" if d.note else "")
                for d in active
            )
            if args.now:
                until = (
                    f"until {_fmt(segment.end)}"
                    if segment.end < end
                    else f"no change within {args.weeks} week{'s' * (args.weeks != 1)}"
                )
                print(f"  on call now: {who or 'owner team only'} ({until})")
            else:
                print(f"  {_fmt(segment.start)} -> {_fmt(segment.end)}  {who or 'owner team only'}")
    return 0


def _fmt(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -------------------------------------------------------------- validate-oncall


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--manifest",
        type=Path,
        default=Path("target/manifest.json"),
        help="manifest of the project (after `dbt parse` or `dbt build`)",
    )


def run_validate(args: argparse.Namespace) -> int:
    try:
        manifest = artifacts.read_manifest(args.manifest)
    except artifacts.ArtifactError as exc:
        raise CliError(str(exc)) from None
    config, issues = ownership.collect(manifest)
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    if issues:
        print(f"validate-oncall: {len(issues)} error(s)", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    print(
        f"validate-oncall: ok: {len(config.teams)} teams, {len(config.pipelines)} pipelines "
        f"({', '.join(p.name for p in config.pipelines)})"
    )
    return 0
