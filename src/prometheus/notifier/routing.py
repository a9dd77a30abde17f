"""From a run's results to one message per team: pure functions, no I/O.

1. Problems are results with status fail, warn, error or runtime error (and source
   freshness warn/error). A skipped node is folded under the failures that caused
   it: a failing test on, or an error of, one of its ancestors.
2. Each problem's impact is the set of exposures downstream of what it checks (a
   test: the node it is attached to, else everything it depends on; a model or a
   source: itself), walking the manifest's ``child_map``. Exposures with a
   ``pipeline`` in their meta are pipelines.
3. A pipeline's failure goes to its primary owner team, always, and to each
   watcher team whose schedule is active at ``at`` (weekly rotation: always;
   last week of the month: only then). The secondary owner is named in the message
   as escalation. A problem that reaches no pipeline goes to the team that owns the
   node (``meta.owner`` naming a team, else its dbt group).
4. One message per team per run, with a dedup key (team + failing node ids and
   statuses) that ``state`` uses to suppress repeats.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus.artifacts import Manifest, Node, TargetArtifacts
from prometheus.notifier.ownership import CommonIssue, OnCallConfig, Pipeline, Team
from prometheus.notifier.schedules import Duty, on_call

# statuses that stop downstream nodes in `dbt build` (a warning does not)
BLOCKING = frozenset({"fail", "error", "runtime error"})
SEVERITY = {"warn": 1, "skipped": 1, "fail": 2, "error": 3, "runtime error": 3}


@dataclass(frozen=True)
class Problem:
    unique_id: str
    name: str
    resource_type: str
    status: str
    original_file_path: str
    failures: int | None = None
    message: str | None = None
    relation_name: str | None = None
    checks: tuple[str, ...] = ()  # the nodes a test checks (or the node itself)
    column_name: str | None = None
    skipped: tuple[str, ...] = ()  # unique ids of nodes skipped because of it
    exposures: tuple[str, ...] = ()  # impacted exposure unique ids
    sample_rows: tuple[Mapping[str, Any], ...] = ()
    stored_row_count: int | None = None  # rows in the test's store_failures table

    def to_dict(self) -> dict[str, Any]:
        return {
            "unique_id": self.unique_id,
            "name": self.name,
            "resource_type": self.resource_type,
            "status": self.status,
            "file": self.original_file_path,
            "failures": self.failures,
            "message": self.message,
            "relation_name": self.relation_name,
            "checks": list(self.checks),
            "column_name": self.column_name,
            "skipped": list(self.skipped),
            "exposures": list(self.exposures),
            "sample_rows": [dict(r) for r in self.sample_rows],
            "stored_row_count": self.stored_row_count,
        }


def _problem(node: Node | None, unique_id: str, status: str, **extra: Any) -> Problem:
    if node is None:
        return Problem(
            unique_id,
            unique_id.split(".")[-1],
            unique_id.split(".")[0],
            status,
            "",
            checks=(unique_id,),
            **extra,
        )
    if node.resource_type in ("test", "unit_test"):
        checks = (node.attached_node,) if node.attached_node else node.depends_on_nodes
    else:
        checks = (node.unique_id,)
    return Problem(
        unique_id=unique_id,
        name=node.name,
        resource_type=node.resource_type,
        status=status,
        original_file_path=node.original_file_path,
        relation_name=node.relation_name,
        checks=tuple(checks),
        column_name=node.column_name,
        **extra,
    )


def ancestors(manifest: Manifest, unique_id: str) -> set[str]:
    seen: set[str] = set()
    queue = deque(manifest.parent_map.get(unique_id, ()))
    while queue:
        uid = queue.popleft()
        if uid not in seen:
            seen.add(uid)
            queue.extend(manifest.parent_map.get(uid, ()))
    return seen


def descendants(manifest: Manifest, roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    queue = deque(roots)
    while queue:
        uid = queue.popleft()
        if uid not in seen:
            seen.add(uid)
            queue.extend(manifest.child_map.get(uid, ()))
    return seen


def find_problems(run: TargetArtifacts) -> list[Problem]:
    """Every problem of the run, with skipped nodes folded under their causes and
    the impacted exposures filled in; sorted by unique id."""
    manifest = run.manifest
    problems: list[Problem] = []
    skipped: list[str] = []
    for result in run.run_results.results if run.run_results else ():
        if result.is_problem:
            problems.append(
                _problem(
                    manifest.node(result.unique_id),
                    result.unique_id,
                    result.status,
                    failures=result.failures,
                    message=result.message,
                )
            )
            if result.relation_name and problems[-1].relation_name is None:
                problems[-1] = _replace(problems[-1], relation_name=result.relation_name)
        elif result.is_skipped:
            skipped.append(result.unique_id)
    if run.sources is not None:
        for fresh in run.sources.results:
            if fresh.is_problem:
                detail = fresh.error or (
                    f"max loaded at {fresh.max_loaded_at.replace(tzinfo=UTC).isoformat()}"
                    if fresh.max_loaded_at
                    else None
                )
                problems.append(
                    _problem(
                        manifest.node(fresh.unique_id),
                        fresh.unique_id,
                        fresh.status,
                        message=f"source freshness {fresh.status}: {detail}",
                    )
                )

    folded: dict[str, list[str]] = {p.unique_id: [] for p in problems}
    for uid in skipped:
        up = ancestors(manifest, uid)
        causes = [
            p
            for p in problems
            if p.status in BLOCKING and (p.unique_id in up or up & set(p.checks))
        ]
        if causes:
            for cause in causes:
                folded[cause.unique_id].append(uid)
        else:  # skipped for a reason the run does not show (e.g. --fail-fast)
            problems.append(_problem(manifest.node(uid), uid, "skipped"))
            folded[uid] = []

    out = []
    for p in problems:
        impacted = descendants(manifest, (*p.checks, *folded[p.unique_id]))
        exposures = tuple(sorted(uid for uid in impacted if uid in manifest.exposures))
        out.append(_replace(p, skipped=tuple(sorted(folded[p.unique_id])), exposures=exposures))
    return sorted(out, key=lambda p: p.unique_id)


def _replace(problem: Problem, **changes: Any) -> Problem:
    from dataclasses import replace

    return replace(problem, **changes)


def attach_samples(
    problems: Sequence[Problem],
    samples: Mapping[str, Sequence[Mapping[str, Any]]],
    row_counts: Mapping[str, int] | None = None,
) -> list[Problem]:
    counts = row_counts or {}
    return [
        _replace(
            p,
            sample_rows=tuple(samples.get(p.unique_id, ())),
            stored_row_count=counts.get(p.unique_id, p.stored_row_count),
        )
        for p in problems
    ]


@dataclass(frozen=True)
class PipelineNotice:
    """What a team is told about one impacted pipeline."""

    pipeline: Pipeline
    why: tuple[str, ...]  # why this team hears about it: "primary owner", "on call ..."
    owner: str
    secondary_owner: str | None
    duties: tuple[Duty, ...]
    exposures: tuple[str, ...]
    failing: tuple[str, ...]  # problem unique ids
    common_issues: tuple[CommonIssue, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline.name,
            "label": self.pipeline.label,
            "audience": self.pipeline.audience,
            "why": list(self.why),
            "owner": self.owner,
            "secondary_owner": self.secondary_owner,
            "on_call": [
                {
                    "team": d.team,
                    "schedule": d.schedule,
                    "active": d.active,
                    "people": [
                        {"id": m.id, "name": m.name, "email": m.email, "slack": m.slack}
                        for m in d.people
                    ],
                    "note": d.note,
                }
                for d in self.duties
            ],
            "exposures": list(self.exposures),
            "failing": list(self.failing),
            "common_issues": [
                {"issue": c.issue, "steps": list(c.steps)} for c in self.common_issues
            ],
        }


@dataclass(frozen=True)
class Message:
    team: str
    team_display: str
    channel: str | None
    email: str | None
    run_id: str | None
    at: datetime
    status: str  # worst status among the problems
    problems: tuple[Problem, ...]
    pipelines: tuple[PipelineNotice, ...]
    mentions: tuple[str, ...]  # people paged: slack handles (or e-mails)
    suppression_hours: float
    dedup_key: str = field(default="")

    @property
    def title(self) -> str:
        names = ", ".join(n.pipeline.name for n in self.pipelines) or "no pipeline"
        return (
            f"[{self.status.upper()}] dbt: {len(self.problems)} problem(s) for "
            f"{self.team_display} ({names})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dedup_key": self.dedup_key,
            "title": self.title,
            "team": self.team,
            "team_display": self.team_display,
            "channel": self.channel,
            "email": self.email,
            "run_id": self.run_id,
            "at": self.at.isoformat(),
            "status": self.status,
            "mentions": list(self.mentions),
            "suppression_hours": self.suppression_hours,
            "pipelines": [n.to_dict() for n in self.pipelines],
            "problems": [p.to_dict() for p in self.problems],
        }


def dedup_key(team: str, problems: Iterable[Problem]) -> str:
    """team + failing node ids + statuses: the same failure on a rerun has the same key."""
    parts = sorted(f"{p.unique_id}={p.status}" for p in problems)
    digest = hashlib.sha256("\n".join([team, *parts]).encode()).hexdigest()[:20]
    return f"{team}:{digest}"


def _node_team(manifest: Manifest, config: OnCallConfig, uid: str) -> str | None:
    node = manifest.node(uid)
    if node is None:
        return None
    owner = node.meta.get("owner")
    if isinstance(owner, str) and owner in config.teams:
        return owner
    return node.group if node.group in config.teams else None


def owning_team(manifest: Manifest, config: OnCallConfig, problem: Problem) -> str | None:
    """The team that owns a problem's node, or what it checks."""
    for uid in (problem.unique_id, *problem.checks):
        team = _node_team(manifest, config, uid)
        if team is not None:
            return team
    return None


@dataclass(frozen=True)
class Routing:
    messages: tuple[Message, ...]
    unrouted: tuple[Problem, ...]  # problems no team owns


def route(
    manifest: Manifest,
    config: OnCallConfig,
    problems: Sequence[Problem],
    at: datetime,
    run_id: str | None = None,
) -> Routing:
    """One message per team for ``problems`` at instant ``at``."""
    # team -> pipeline name -> reasons; team -> problem ids
    reasons: dict[str, dict[str, list[str]]] = {}
    team_problems: dict[str, set[str]] = {}
    mentions: dict[str, list[str]] = {}
    pipelines = {p.name: p for p in config.pipelines}
    duties_at: dict[str, tuple[Duty, ...]] = {}
    unrouted: list[Problem] = []

    def add(team: str, pipeline: str | None, why: str, problem: Problem) -> None:
        reasons.setdefault(team, {})
        if pipeline is not None:
            reasons[team].setdefault(pipeline, [])
            if why not in reasons[team][pipeline]:
                reasons[team][pipeline].append(why)
        team_problems.setdefault(team, set()).add(problem.unique_id)

    def mention(team: str, people: Iterable[str]) -> None:
        bucket = mentions.setdefault(team, [])
        bucket.extend(p for p in people if p not in bucket)

    for problem in problems:
        hit = [
            config.pipelines_by_exposure[e]
            for e in problem.exposures
            if e in config.pipelines_by_exposure
        ]
        for pipeline in hit:
            duties = duties_at.setdefault(pipeline.name, on_call(pipeline, config.teams, at))
            if pipeline.owner in config.teams:
                add(pipeline.owner, pipeline.name, "primary owner", problem)
                mention(pipeline.owner, pipeline.subscribers)
            for duty in duties:
                if not duty.active:
                    continue
                add(
                    duty.team,
                    pipeline.name,
                    f"on call ({duty.schedule.replace('_', ' ')})",
                    problem,
                )
                mention(duty.team, (m.slack or m.email for m in duty.people))
        if not hit:
            team = owning_team(manifest, config, problem)
            if team is None:
                unrouted.append(problem)
            else:
                add(team, None, "owns the node", problem)

    by_id = {p.unique_id: p for p in problems}
    messages = []
    for team_name in sorted(team_problems):
        team_cfg: Team = config.teams[team_name]
        mine = tuple(by_id[uid] for uid in sorted(team_problems[team_name]))
        notices = []
        for name in sorted(reasons.get(team_name, {})):
            pipeline = pipelines[name]
            failing = tuple(p.unique_id for p in mine if pipeline.exposure_id in p.exposures)
            exposures = [pipeline.exposure_id] if failing else []
            notices.append(
                PipelineNotice(
                    pipeline=pipeline,
                    why=tuple(reasons[team_name][name]),
                    owner=_display(config, pipeline.owner) or pipeline.owner,
                    secondary_owner=_display(config, pipeline.secondary_owner),
                    duties=duties_at[name],
                    exposures=tuple(exposures),
                    failing=failing,
                    common_issues=pipeline.common_issues,
                )
            )
        intervals = [n.pipeline.alert_suppression_interval for n in notices]
        explicit = [i for i in intervals if i is not None]
        suppression = min(explicit) if explicit else team_cfg.alert_suppression_interval
        status = max((p.status for p in mine), key=lambda s: SEVERITY.get(s, 0))
        messages.append(
            Message(
                team=team_name,
                team_display=team_cfg.display_name,
                channel=team_cfg.channel,
                email=team_cfg.email,
                run_id=run_id,
                at=at,
                status=status,
                problems=mine,
                pipelines=tuple(notices),
                mentions=tuple(mentions.get(team_name, ())) + team_cfg.subscribers,
                suppression_hours=suppression,
                dedup_key=dedup_key(team_name, mine),
            )
        )
    return Routing(messages=tuple(messages), unrouted=tuple(unrouted))


def _display(config: OnCallConfig, team: str | None) -> str | None:
    if team is None:
        return None
    found = config.teams.get(team)
    return found.display_name if found else team


def render_text(message: Message, max_rows: int = 3) -> str:
    """Plain-text rendering used by stdout, e-mail and chat fallbacks."""
    lines = [message.title]
    if message.run_id:
        lines.append(f"run {message.run_id} at {message.at.isoformat()}")
    if message.mentions:
        lines.append("paging: " + ", ".join(message.mentions))
    for notice in message.pipelines:
        lines.append("")
        audience = f" ({notice.pipeline.audience})" if notice.pipeline.audience else ""
        lines.append(f"Pipeline {notice.pipeline.label}{audience}: {', '.join(notice.why)}")
        owners = f"  owners: {notice.owner} (primary)"
        if notice.secondary_owner:
            owners += f", {notice.secondary_owner} (secondary)"
        lines.append(owners)
        for duty in notice.duties:
            state = "on call" if duty.active else "not on call now"
            who = ", ".join(m.name for m in duty.people) or "nobody"
            note = f" [{duty.note}]" if duty.note else ""
            lines.append(f"  {duty.team} {duty.schedule.replace('_', ' ')}: {who} ({state}){note}")
        lines.append("  exposures: " + ", ".join(e.split(".")[-1] for e in notice.exposures))
        for issue in notice.common_issues:
            lines.append(f"  runbook: {issue.issue}")
            lines.extend(f"    {i}. {step}" for i, step in enumerate(issue.steps, 1))
    lines.append("")
    lines.append("Problems:")
    for problem in message.problems:
        rows = problem.stored_row_count
        rows = problem.failures if rows is None else rows
        count = f", {rows} failing row(s)" if rows is not None else ""
        lines.append(
            f"- {problem.status.upper()} {problem.name}{count} ({problem.original_file_path})"
        )
        if problem.message and problem.status != "fail":
            lines.append(f"    {problem.message}")
        if problem.skipped:
            lines.append("    skipped because of it: " + summarize_skipped(problem.skipped))
        for row in problem.sample_rows[:max_rows]:
            lines.append("    row: " + ", ".join(f"{k}={v}" for k, v in row.items()))
    return "\n".join(lines)


def summarize_skipped(skipped: Sequence[str]) -> str:
    """Models, snapshots, seeds and exposures by name; tests only counted."""
    named = [uid.split(".")[2] for uid in skipped if uid.split(".")[0] not in ("test", "unit_test")]
    tests = len(skipped) - len(named)
    text = ", ".join(named)
    if tests:
        text += (", and " if named else "") + f"{tests} test(s)"
    return text
