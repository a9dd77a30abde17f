"""From problems to one message per team: pure functions, no I/O.

A pipeline's failure goes to its primary owner team, always, and to each watcher
team whose schedule is active at ``at`` (weekly rotation: always; last week of the
month: only then). The secondary owner is named in the message as escalation. A
problem that reaches no pipeline goes to the team that owns the node
(``meta.owner`` naming a team, else its dbt group). Problems come from
``problems``; text and Slack blocks from ``render``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus.artifacts import Manifest
from prometheus.notifier.ownership import CommonIssue, OnCallConfig, Pipeline, Team
from prometheus.notifier.problems import SEVERITY, Problem
from prometheus.notifier.schedules import Duty, on_call


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
class Change:
    """What happened to one incident in this run (see ``incidents``)."""

    incident_id: int
    key: str  # "<pipeline or team:NAME>|<test unique id>"
    kind: str  # opened | worsened | eased | reminder | updated | resolved
    pipeline: str | None
    test: str  # unique id of the failing node
    name: str
    status: str  # dbt status now (for resolved: the last failing one)
    rows: int | None  # the one failing-row count
    previous_status: str | None
    previous_rows: int | None
    opened_at: datetime
    action: str  # page | channel (severity policy)
    reason: str  # why it is (re-)notified, in words
    teams: tuple[str, ...] = ()

    @property
    def notify(self) -> bool:
        return self.kind != "updated"

    def to_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "key": self.key,
            "kind": self.kind,
            "pipeline": self.pipeline,
            "test": self.test,
            "name": self.name,
            "status": self.status,
            "failing_rows": self.rows,
            "previous_status": self.previous_status,
            "previous_failing_rows": self.previous_rows,
            "opened_at": self.opened_at.isoformat(),
            "action": self.action,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Links:
    """Base URLs from configuration (``--report-url``/``--docs-url`` or
    PROMETHEUS_REPORT_URL / PROMETHEUS_DOCS_URL)."""

    report: str | None = None
    docs: str | None = None
    warehouse: str | None = None  # DuckDB path shown in the ready query
    engine: str = "duckdb"  # the manifest's adapter_type: which ready query to show

    def report_page(self, unique_id: str) -> str | None:
        return f"{self.report.rstrip('/')}/#/test-results/{unique_id}" if self.report else None

    def docs_page(self, unique_id: str) -> str | None:
        if not self.docs:
            return None
        kind = unique_id.split(".", 1)[0]
        return f"{self.docs.rstrip('/')}/#!/{kind}/{unique_id}"


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
    timezone: str = "UTC"
    changes: tuple[Change, ...] = ()  # incidents (re-)notified or resolved in this run
    paging: bool = True  # False: the team's channel only (severity policy)
    runbooks: tuple[tuple[str, tuple[CommonIssue, ...]], ...] = ()  # problem id -> issues
    links: Links = field(default_factory=Links)

    @property
    def resolved(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == "resolved")

    def runbook(self, unique_id: str) -> tuple[CommonIssue, ...]:
        return next((issues for uid, issues in self.runbooks if uid == unique_id), ())

    @property
    def title(self) -> str:
        """The headline: what broke, how bad, which numbers are held back."""
        names = ", ".join(n.pipeline.label for n in self.pipelines) or "no pipeline"
        if not self.problems and self.resolved:
            return (
                f"[RESOLVED] dbt: {len(self.resolved)} incident(s) resolved for {self.team_display}"
            )
        how = "BLOCKING" if self.paging else "WARNING"
        held = [
            n.pipeline.label
            for n in self.pipelines
            if any(p.blocking for p in self.problems if p.unique_id in n.failing)
        ]
        rows = sum(p.failing_rows or 0 for p in self.problems)
        head = (
            f"[{how}] {len(self.problems)} failing check(s), {rows} failing row(s) "
            f"for {self.team_display} ({names})"
        )
        if held:
            head += "; held back: " + ", ".join(held)
        if self.resolved:
            head += f"; {len(self.resolved)} resolved"
        return head

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
            "timezone": self.timezone,
            "paging": self.paging,
            "pipelines": [n.to_dict() for n in self.pipelines],
            "problems": [p.to_dict() for p in self.problems],
            "changes": [c.to_dict() for c in self.changes],
        }


def dedup_key(team: str, problems: Iterable[Problem]) -> str:
    """team + failing node ids + statuses: the same failure on a rerun has the same key."""
    parts = sorted(f"{p.unique_id}={p.status}" for p in problems)
    digest = hashlib.sha256("\n".join([team, *parts]).encode()).hexdigest()[:20]
    return f"{team}:{digest}"


def runbook_for(
    manifest: Manifest, config: OnCallConfig, problem: Problem, routed: Sequence[Pipeline]
) -> tuple[CommonIssue, ...]:
    """The runbook entries of a problem, wherever it is routed: entries naming one
    of its nodes (in any pipeline) first, else entries naming its test type, else
    the common issues of the pipelines it reaches."""
    names = {problem.name}
    for uid in problem.checks:
        node = manifest.node(uid)
        names.add(node.name if node is not None else uid.split(".")[-1])
    node = manifest.node(problem.unique_id)
    kind = node.test_short_name if node is not None else None
    routed_issues = [i for p in routed for i in p.common_issues]
    every = routed_issues + [i for p in config.pipelines for i in p.common_issues]

    def distinct(issues: Iterable[CommonIssue]) -> tuple[CommonIssue, ...]:
        """One entry per issue text: the routed pipeline's wording first."""
        out: dict[str, CommonIssue] = {}
        for issue in issues:
            out.setdefault(issue.issue, issue)
        return tuple(out.values())

    by_node = distinct(i for i in every if names & set(i.nodes))
    if by_node:
        return by_node
    by_type = distinct(i for i in every if kind is not None and kind in i.test_types)
    if by_type:
        return by_type
    return distinct(routed_issues)


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
                mention(duty.team, (m.mention for m in duty.people))
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
        routed = [n.pipeline for n in notices]
        runbooks = tuple((p.unique_id, runbook_for(manifest, config, p, routed)) for p in mine)
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
                timezone=team_cfg.timezone,
                runbooks=runbooks,
            )
        )
    return Routing(messages=tuple(messages), unrouted=tuple(unrouted))


def _display(config: OnCallConfig, team: str | None) -> str | None:
    if team is None:
        return None
    found = config.teams.get(team)
    return found.display_name if found else team
