"""`prometheus notify`, `prometheus oncall`, `prometheus validate-oncall`.

This module is the ``notify`` sub-command (``add_arguments``/``run``); ``oncall_cli``
and ``validate_cli`` expose the other two through the functions below.

``notify``: checks everything first (artifacts of one invocation, nodes in the
manifest, on-call configuration, every destination's settings and the base URLs),
then in one store transaction records the incidents' changes and renders the
messages into the outbox, then delivers the outbox (see ``incidents``,
``delivery``). Exit codes: 0 every message delivered (or nothing to send), 2 bad
input (nothing sent, nothing recorded), 3 some message reached only the fallback
channel, 4 some message reached nobody.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from prometheus import artifacts, logs, settings
from prometheus.errors import CliError
from prometheus.notifier import incidents, ownership, problems, routing, schedules, stored_failures
from prometheus.notifier.channels import (
    CHANNELS,
    ChannelConfigError,
    Channels,
    Destination,
    check_url,
)
from prometheus.notifier.delivery import Deadline, RetryPolicy, deliver, exit_code

EXIT_INVALID_CONFIG = 1
PENDING_MAX_AGE = timedelta(hours=24)  # older undelivered messages are not retried
log = logs.get(__name__)


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
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC)


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
        default=None,
        help="dbt target dir with manifest.json and run_results.json "
        "(default $PROMETHEUS_TARGET_DIR or target)",
    )
    parser.add_argument(
        "--at", help="ISO instant for on-call and the lifecycle (default now; no offset = UTC)"
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
        help=f"incident store, SQLite (default {incidents.DEFAULT_STATE_FILE}; a dry run "
        "without --state-file uses a throw-away store)",
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
        "--report-url", help="Elementary report base URL (default $PROMETHEUS_REPORT_URL)"
    )
    parser.add_argument("--docs-url", help="dbt docs base URL (default $PROMETHEUS_DOCS_URL)")
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
    parser.add_argument(
        "--deadline",
        type=float,
        default=120.0,
        help="overall seconds for all deliveries of the run (default 120)",
    )


def check_run(run: artifacts.TargetArtifacts) -> None:
    """Manifest and run results of one invocation, every result's node in the manifest."""
    results = run.run_results
    if results is not None and results.invocation_id != run.manifest.invocation_id:
        raise CliError(
            f"run_results.json is from invocation {results.invocation_id}, manifest.json from "
            f"{run.manifest.invocation_id}: use the artifacts of one `dbt build`"
        )
    missing = [
        r.unique_id
        for r in (results.results if results else ())
        if not run.manifest.knows(r.unique_id)
    ]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise CliError(f"run_results.json names node(s) not in manifest.json: {shown}")


def build_messages(
    target_dir: Path, at: datetime, duckdb_path: Path | None, sample_rows: int
) -> tuple[artifacts.TargetArtifacts, ownership.OnCallConfig, routing.Routing, list[str]]:
    try:
        run = artifacts.load_run(target_dir)
    except artifacts.ArtifactError as exc:
        raise CliError(str(exc)) from None
    check_run(run)
    config = _load_config(run.manifest)
    found = problems.find_problems(run)
    notes = list(run.notes)
    if sample_rows > 0 and found and run.manifest.adapter_type != "duckdb":
        notes.append(
            f"stored failing rows are {run.manifest.adapter_type} tables: not sampled "
            "(the message names their relation)"
        )
    elif sample_rows > 0 and found:
        samples, sample_notes = stored_failures.read_samples(found, duckdb_path, sample_rows)
        row_counts = stored_failures.read_row_counts(found, duckdb_path)
        found = problems.attach_samples(found, samples, row_counts)
        notes += sample_notes
    result = routing.route(run.manifest, config, found, at, run.invocation_id)
    return run, config, result, notes


def _links(args: argparse.Namespace, duckdb_path: Path, engine: str) -> routing.Links:
    report = args.report_url or os.environ.get("PROMETHEUS_REPORT_URL") or None
    docs = args.docs_url or os.environ.get("PROMETHEUS_DOCS_URL") or None
    try:
        if report:
            check_url("PROMETHEUS_REPORT_URL (--report-url)", report)
        if docs:
            check_url("PROMETHEUS_DOCS_URL (--docs-url)", docs)
    except ChannelConfigError as exc:
        raise CliError(str(exc)) from None
    return routing.Links(report=report, docs=docs, warehouse=str(duckdb_path), engine=engine)


@contextmanager
def _store(path: Path | None, dry_run: bool) -> Iterator[incidents.Store]:
    try:
        if path is None and dry_run:
            with tempfile.TemporaryDirectory(prefix="prometheus-notify-") as tmp:
                yield incidents.Store(Path(tmp) / "incidents.sqlite")
            return
        yield incidents.Store(path or Path(incidents.DEFAULT_STATE_FILE))
    except incidents.StateError as exc:
        raise CliError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    if (
        args.attempts < 1
        or args.timeout <= 0
        or args.backoff < 0
        or args.sample_rows < 0
        or args.deadline <= 0
    ):
        raise CliError(
            "--attempts must be >= 1, --timeout and --deadline > 0, "
            "--backoff and --sample-rows >= 0"
        )
    at = parse_at(args.at)
    paths = settings.load()
    target_dir = args.target_dir or paths.target_dir
    duckdb_path = args.duckdb_path or paths.duckdb_path
    run_artifacts, config, result, notes = build_messages(
        target_dir, at, duckdb_path, args.sample_rows
    )
    links = _links(args, duckdb_path, run_artifacts.manifest.adapter_type)
    for note in notes:
        log.info("note: %s", note)
    for problem in result.unrouted:
        log.warning("no team owns %s", problem.unique_id)
    policy = RetryPolicy(
        attempts=args.attempts,
        timeout=args.timeout,
        backoff=args.backoff,
        retry_after_max=args.retry_after_max,
    )
    channels = Channels(policy=policy, jsonl_path=args.jsonl_path, fallback_path=args.fallback_path)
    names = list(dict.fromkeys(args.channels or ["stdout"]))
    # every destination of every team, checked before anything is recorded or sent
    dests: dict[tuple[str, str], Destination] = {}
    try:
        for name in names:
            for team in sorted(config.teams):
                dests[(name, team)] = channels.destination(name, team, config.teams[team].email)
    except ChannelConfigError as exc:
        raise CliError(str(exc)) from None
    by_name: Mapping[str, Destination] = {d.name: d for d in dests.values()}
    with _store(args.state_file, names == ["stdout"]) as store:
        observations = incidents.observe(result, config)
        with store.transaction() as con:
            changes = store.reconcile(
                con, observations, problems.passed(run_artifacts), at, run_artifacts.invocation_id
            )
            messages = incidents.compose(
                result, changes, config, at, run_artifacts.invocation_id, links
            )
            for message in messages:
                for name in names:
                    dest = dests[(name, message.team)]
                    payloads = dest.render(message)
                    for i, payload in enumerate(payloads, 1):
                        part = f"/{i}of{len(payloads)}" if len(payloads) > 1 else ""
                        store.add_outbox(
                            con, message.dedup_key + part, dest.name, message.team, at, payload
                        )
        for line in incidents.summary(changes):
            print(f"notify: {line}")
        pending = store.pending(at - PENDING_MAX_AGE)
        if not pending:
            print("notify: nothing to send")
            return 0
        try:
            outcomes = deliver(
                store,
                pending,
                by_name,
                None if args.no_fallback else channels.fallback,
                Deadline(args.deadline),
                channels.redact,
                lambda line: log.info("%s", channels.redact(line)),
                now=lambda: at,
            )
        finally:
            channels.close()
    left = [r for r in pending if r.destination not in by_name]
    if left:
        log.warning(
            "%d pending message(s) for channels not asked for in this run stay pending", len(left)
        )
    code = exit_code(outcomes)
    counts = {
        s: sum(o.status == s for o in outcomes) for s in ("sent", "skipped", "fallback", "failed")
    }
    print("notify: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + f" (exit {code})")
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
    parser.add_argument(
        "--person",
        help="when is this person on call: member id, name or Slack handle (e.g. de-kenji)",
    )


def _window(start: datetime, end: datetime, timezone: str) -> str:
    """UTC, then the team's wall-clock time."""
    text = f"{_fmt(start)} -> {_fmt(end)}"
    if timezone != "UTC":
        tz = ZoneInfo(timezone)
        left, right = start.astimezone(tz), end.astimezone(tz)
        text += (
            f"  ({left.strftime('%a %d %b %H:%M %Z')} -> {right.strftime('%a %d %b %H:%M %Z')} "
            f"{timezone})"
        )
    return text


def _instant(at: datetime, timezone: str) -> str:
    """One instant in UTC, then in the team's wall-clock time."""
    text = _fmt(at)
    if timezone != "UTC":
        text += f" ({at.astimezone(ZoneInfo(timezone)).strftime('%a %d %b %H:%M %Z')})"
    return text


def _find_person(config: ownership.OnCallConfig, who: str) -> tuple[ownership.Team, str]:
    wanted = who.lstrip("@").casefold()
    for team in config.teams.values():
        for m in team.members:
            names = {m.id, m.name, m.slack or "", m.slack_id or "", m.email}
            if wanted in {n.lstrip("@").casefold() for n in names if n}:
                return team, m.id
    known = ", ".join(sorted(m.id for t in config.teams.values() for m in t.members))
    raise CliError(f"--person {who!r}: no such member (known: {known})")


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
    pipelines = [p for p in config.pipelines if not wanted or p.name in wanted]
    if args.person:
        return _person_view(config, pipelines, args.person, start, end)
    for pipeline in pipelines:
        owner_team = config.teams[pipeline.owner]
        second = (
            config.teams[pipeline.secondary_owner].display_name if pipeline.secondary_owner else "-"
        )
        print(
            f"{pipeline.name} ({pipeline.label}): owner {owner_team.display_name}, "
            f"secondary {second}"
        )
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
            if not who:  # nobody watches on a schedule: the owner team's channel only
                who = (
                    f"owner team only: {owner_team.display_name} "
                    f"({', '.join(m.name for m in owner_team.members)}) via "
                    f"{owner_team.channel or owner_team.email}, nobody paged"
                )
            tz = next((config.teams[d.team].timezone for d in active), owner_team.timezone)
            if args.now:
                until = (
                    f"until {_instant(segment.end, tz)}"
                    if segment.end < end
                    else f"no change within {args.weeks} week{'s' * (args.weeks != 1)}"
                )
                print(f"  on call now: {who} ({until})")
            else:
                print(f"  {_window(segment.start, segment.end, tz)}  {who}")
    return 0


def _person_view(
    config: ownership.OnCallConfig,
    pipelines: list[ownership.Pipeline],
    who: str,
    start: datetime,
    end: datetime,
) -> int:
    team, member_id = _find_person(config, who)
    member = team.member(member_id)
    assert member is not None
    windows: dict[tuple[datetime, datetime], list[str]] = {}
    for pipeline in pipelines:
        for segment in schedules.timeline(pipeline, config.teams, start, end):
            for duty in segment.duties:
                if duty.active and any(m.id == member_id for m in duty.people):
                    label = f"{pipeline.name} ({duty.schedule.replace('_', ' ')})"
                    windows.setdefault((segment.start, segment.end), []).append(label)
    print(f"{member.name} ({member.id}, {team.display_name}, {team.timezone}):")
    if not windows:
        print(f"  not on call between {_fmt(start)} and {_fmt(end)}")
    # merge touching windows with the same pipelines
    merged: list[tuple[datetime, datetime, list[str]]] = []
    for (left, right), labels in sorted(windows.items()):
        if merged and merged[-1][1] >= left and merged[-1][2] == labels:
            merged[-1] = (merged[-1][0], max(right, merged[-1][1]), labels)
        else:
            merged.append((left, right, labels))
    for left, right, labels in merged:
        print(f"  {_window(left, right, team.timezone)}  {', '.join(labels)}")
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
        log.error("%s", issue)
    if issues:
        log.error("%d error(s)", len(issues))
        return EXIT_INVALID_CONFIG
    print(
        f"validate-oncall: ok: {len(config.teams)} teams, {len(config.pipelines)} pipelines "
        f"({', '.join(p.name for p in config.pipelines)})"
    )
    return 0
