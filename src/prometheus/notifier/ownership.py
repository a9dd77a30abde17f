"""The on-call configuration, read from the manifest's groups and exposures.

Teams are dbt groups: ``owner`` holds name and e-mail; everything else sits under
``config.meta`` (channel, email, timezone, members, rotation, ...). Pipelines are
exposures whose ``config.meta`` names a ``pipeline``, its ``owner`` team, its
``secondary_owner`` team, ``watchers`` and the runbook's ``common_issues``.
Elementary's keys (``owner``, ``subscribers``, ``channel``,
``alert_suppression_interval``) keep their meaning where they overlap.

Everything is validated with pydantic; every problem names the file
(``original_file_path``) and the key, so ``validate-oncall`` can report them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from prometheus.artifacts import Manifest

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# what a problem of a given dbt status does: page the person on call, or only
# tell the owning team's channel; blocking statuses page by default
Action = Literal["page", "channel"]
Status = Literal["fail", "error", "runtime error", "warn", "skipped"]
DEFAULT_SEVERITY_POLICY: dict[str, str] = {
    "fail": "page",
    "error": "page",
    "runtime error": "page",
    "warn": "channel",
    "skipped": "channel",
}
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Schedule = Literal["always", "weekly_rotation", "last_week_of_month"]


def _policy(policy: Mapping[Status, Action]) -> dict[str, str]:
    return {str(status): str(action) for status, action in policy.items()}


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name like Europe/London)"
        ) from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Member(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    slack: str | None = None
    # Slack member id (Profile > Copy member ID), so a mention notifies the person
    slack_id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{4,}$")
    role: str = Field(min_length=1)

    @property
    def mention(self) -> str:
        """A real Slack mention when the member id is known, else the name."""
        return f"<@{self.slack_id}>" if self.slack_id else (self.slack or self.name)


class Override(_Strict):
    """A swap: ``member`` is on call from ``start`` (inclusive) to ``end`` (exclusive).

    ``start``/``end`` are ISO dates (midnight) or date-times; without an offset they
    are read in the rotation's time zone. With ``replaces``, the override applies
    only while that member would have been on call.
    """

    start: datetime | date
    end: datetime | date
    member: str
    replaces: str | None = None
    reason: str = ""

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return _as_instant(self.start, tz), _as_instant(self.end, tz)

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        utc = ZoneInfo("UTC")
        start, end = self.bounds(utc)
        if end <= start:
            raise ValueError("end must be after start")
        return self


def _as_instant(value: datetime | date, tz: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(ZoneInfo("UTC"))


class Rotation(_Strict):
    members: list[str] = Field(min_length=1)
    anchor_date: date
    handoff_weekday: Weekday = "monday"
    handoff_time: time = time(9, 0)
    timezone: str
    overrides: list[Override] = Field(default_factory=list)

    _tz_ok = field_validator("timezone")(_check_timezone)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def handoff_weekday_index(self) -> int:
        return WEEKDAYS.index(self.handoff_weekday)

    @model_validator(mode="after")
    def _anchor_on_handoff_day(self) -> Rotation:
        if self.anchor_date.weekday() != WEEKDAYS.index(self.handoff_weekday):
            raise ValueError(
                f"anchor_date {self.anchor_date} is a {WEEKDAYS[self.anchor_date.weekday()]}, "
                f"not the handoff_weekday {self.handoff_weekday}"
            )
        return self


class TeamMeta(BaseModel):
    """A group's config.meta. Unknown top-level keys are allowed (other tools read
    meta too); nested objects are strict so typos are caught."""

    model_config = ConfigDict(extra="allow", frozen=True)

    team: str | None = None
    display_name: str | None = None
    channel: str | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    timezone: str = "UTC"
    members: list[Member] = Field(min_length=1)
    rotation: Rotation | None = None
    subscribers: list[str] = Field(default_factory=list)
    last_week_of_month_days: int = Field(default=7, ge=1, le=28)
    alert_suppression_interval: float = Field(default=24, ge=0)
    severity_policy: dict[Status, Action] = Field(default_factory=dict)

    _tz_ok = field_validator("timezone")(_check_timezone)


class Watcher(_Strict):
    team: str
    role: str | None = None
    schedule: Schedule


class CommonIssue(_Strict):
    """A runbook entry. ``nodes`` (model, source, seed or test names) and
    ``test_types`` (generic test names such as not_null) say which failing tests it
    is about, wherever they are routed: a node match wins over a test-type match."""

    issue: str = Field(min_length=1)
    steps: list[str] = Field(min_length=1)
    nodes: list[str] = Field(default_factory=list)
    test_types: list[str] = Field(default_factory=list)


class PipelineMeta(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    pipeline: str = Field(min_length=1)
    audience: str | None = None
    owner: str = Field(min_length=1)
    secondary_owner: str | None = None
    watchers: list[Watcher] = Field(default_factory=list)
    common_issues: list[CommonIssue] = Field(default_factory=list)
    subscribers: list[str] = Field(default_factory=list)
    channel: str | None = None
    alert_suppression_interval: float | None = Field(default=None, ge=0)
    severity_policy: dict[Status, Action] = Field(default_factory=dict)

    @field_validator("subscribers", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True)
class Team:
    name: str
    display_name: str
    owner_name: str | None
    owner_email: str | None
    channel: str | None
    email: str | None
    timezone: str
    members: tuple[Member, ...]
    rotation: Rotation | None
    subscribers: tuple[str, ...]
    last_week_of_month_days: int
    alert_suppression_interval: float
    original_file_path: str
    severity_policy: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_POLICY)
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)

    def with_role(self, role: str | None) -> tuple[Member, ...]:
        if role is None:
            return self.members
        return tuple(m for m in self.members if m.role == role)


@dataclass(frozen=True)
class Pipeline:
    name: str
    exposure_id: str
    exposure_name: str
    label: str
    audience: str | None
    owner: str
    secondary_owner: str | None
    watchers: tuple[Watcher, ...]
    common_issues: tuple[CommonIssue, ...]
    subscribers: tuple[str, ...]
    channel: str | None
    alert_suppression_interval: float | None
    depends_on: tuple[str, ...]
    original_file_path: str
    severity_policy: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_POLICY)
    )

    def action(self, status: str) -> str:
        """page | channel for a problem of ``status`` on this pipeline."""
        return self.severity_policy.get(status, "page")


@dataclass(frozen=True)
class OnCallConfig:
    teams: Mapping[str, Team]
    pipelines: tuple[Pipeline, ...]

    @cached_property
    def pipelines_by_exposure(self) -> dict[str, Pipeline]:
        return {p.exposure_id: p for p in self.pipelines}


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


class ConfigError(Exception):
    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


def _loc(prefix: str, loc: tuple[int | str, ...]) -> str:
    key = prefix
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _pydantic_issues(exc: ValidationError, file: str, prefix: str) -> list[ConfigIssue]:
    issues = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        issues.append(ConfigIssue(file, _loc(prefix, loc), message))
    return issues


def _overlaps(overrides: list[Override], tz: ZoneInfo) -> list[tuple[int, int]]:
    spans = sorted(
        ((*o.bounds(tz), i) for i, o in enumerate(overrides)), key=lambda s: (s[0], s[1])
    )
    pairs = []
    for a in range(len(spans)):
        for b in range(a + 1, len(spans)):
            if spans[b][0] >= spans[a][1]:
                break
            first, second = overrides[spans[a][2]], overrides[spans[b][2]]
            # two swaps replacing different people may overlap; same target may not
            if (
                first.replaces is None
                or second.replaces is None
                or (first.replaces == second.replaces)
            ):
                pairs.append(tuple(sorted((spans[a][2], spans[b][2]))))
    return sorted(pairs)  # type: ignore[arg-type]


def collect(manifest: Manifest) -> tuple[OnCallConfig, list[ConfigIssue]]:
    """Read and check the whole configuration; return what is usable and every issue."""
    issues: list[ConfigIssue] = []
    teams: dict[str, Team] = {}
    for group in sorted(manifest.groups.values(), key=lambda g: g.name):
        file, prefix = group.original_file_path, f"groups[{group.name}].config.meta"
        try:
            meta = TeamMeta.model_validate(dict(group.meta))
        except ValidationError as exc:
            issues.extend(_pydantic_issues(exc, file, prefix))
            continue
        if meta.team is not None and meta.team != group.name:
            issues.append(
                ConfigIssue(file, f"{prefix}.team", f"{meta.team!r} differs from group name")
            )
        if not group.owner.email and not meta.email:
            issues.append(ConfigIssue(file, f"groups[{group.name}].owner.email", "missing"))
        ids = [m.id for m in meta.members]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            issues.append(ConfigIssue(file, f"{prefix}.members", f"duplicate member id {dup!r}"))
        if meta.rotation is not None:
            rot, rkey = meta.rotation, f"{prefix}.rotation"
            for i, member_id in enumerate(rot.members):
                if member_id not in ids:
                    issues.append(
                        ConfigIssue(
                            file,
                            f"{rkey}.members[{i}]",
                            f"{member_id!r} is not a member of team {group.name}",
                        )
                    )
            for i, override in enumerate(rot.overrides):
                if override.member not in ids:
                    issues.append(
                        ConfigIssue(
                            file,
                            f"{rkey}.overrides[{i}].member",
                            f"{override.member!r} is not a member of team {group.name}",
                        )
                    )
                if override.replaces is not None and override.replaces not in rot.members:
                    issues.append(
                        ConfigIssue(
                            file,
                            f"{rkey}.overrides[{i}].replaces",
                            f"{override.replaces!r} is not in the rotation",
                        )
                    )
            for a, b in _overlaps(rot.overrides, rot.tz):
                issues.append(
                    ConfigIssue(
                        file, f"{rkey}.overrides[{b}]", f"overlaps overrides[{a}] for the same slot"
                    )
                )
        teams[group.name] = Team(
            name=group.name,
            display_name=meta.display_name or group.owner.name or group.name,
            owner_name=group.owner.name,
            owner_email=group.owner.email,
            channel=meta.channel,
            email=meta.email or group.owner.email,
            timezone=meta.timezone,
            members=tuple(meta.members),
            rotation=meta.rotation,
            subscribers=tuple(meta.subscribers),
            last_week_of_month_days=meta.last_week_of_month_days,
            alert_suppression_interval=meta.alert_suppression_interval,
            original_file_path=file,
            severity_policy={**DEFAULT_SEVERITY_POLICY, **_policy(meta.severity_policy)},
        )
    known_teams = {g.name for g in manifest.groups.values()}

    pipelines: list[Pipeline] = []
    seen: dict[str, str] = {}
    for exposure in sorted(manifest.exposures.values(), key=lambda e: e.name):
        file, prefix = exposure.original_file_path, f"exposures[{exposure.name}].config.meta"
        if "owner" not in exposure.meta:
            issues.append(ConfigIssue(file, f"{prefix}.owner", "exposure without owners"))
            continue
        try:
            pmeta = PipelineMeta.model_validate(dict(exposure.meta))
        except ValidationError as exc:
            issues.extend(_pydantic_issues(exc, file, prefix))
            continue
        owner_email = exposure.owner.email if exposure.owner else None
        if not owner_email:
            issues.append(ConfigIssue(file, f"exposures[{exposure.name}].owner.email", "missing"))
        refs = [("owner", pmeta.owner)]
        if pmeta.secondary_owner is not None:
            refs.append(("secondary_owner", pmeta.secondary_owner))
        refs += [(f"watchers[{i}].team", w.team) for i, w in enumerate(pmeta.watchers)]
        for key, team_name in refs:
            if team_name not in known_teams:
                issues.append(
                    ConfigIssue(
                        file,
                        f"{prefix}.{key}",
                        f"unknown team {team_name!r} (known: {', '.join(sorted(known_teams))})",
                    )
                )
        owner_team = teams.get(pmeta.owner)
        if (
            owner_team is not None
            and owner_email
            and owner_email not in {owner_team.owner_email, owner_team.email}
        ):
            issues.append(
                ConfigIssue(
                    file,
                    f"exposures[{exposure.name}].owner.email",
                    f"{owner_email!r} is not team {pmeta.owner}'s e-mail",
                )
            )
        for i, watcher in enumerate(pmeta.watchers):
            team = teams.get(watcher.team)
            if team is None:
                continue
            if watcher.role is not None and not team.with_role(watcher.role):
                issues.append(
                    ConfigIssue(
                        file,
                        f"{prefix}.watchers[{i}].role",
                        f"team {watcher.team} has no member with role {watcher.role!r}",
                    )
                )
            if watcher.schedule == "weekly_rotation" and team.rotation is None:
                issues.append(
                    ConfigIssue(
                        file,
                        f"{prefix}.watchers[{i}].schedule",
                        f"team {watcher.team} has no rotation",
                    )
                )
        if pmeta.pipeline in seen:
            issues.append(
                ConfigIssue(
                    file,
                    f"{prefix}.pipeline",
                    f"pipeline {pmeta.pipeline!r} also declared by exposure {seen[pmeta.pipeline]}",
                )
            )
            continue
        seen[pmeta.pipeline] = exposure.name
        if not pmeta.common_issues:
            issues.append(ConfigIssue(file, f"{prefix}.common_issues", "no runbook common issues"))
        pipelines.append(
            Pipeline(
                name=pmeta.pipeline,
                exposure_id=exposure.unique_id,
                exposure_name=exposure.name,
                label=exposure.label or exposure.name,
                audience=pmeta.audience,
                owner=pmeta.owner,
                secondary_owner=pmeta.secondary_owner,
                watchers=tuple(pmeta.watchers),
                common_issues=tuple(pmeta.common_issues),
                subscribers=tuple(pmeta.subscribers),
                channel=pmeta.channel,
                alert_suppression_interval=pmeta.alert_suppression_interval,
                depends_on=exposure.depends_on_nodes,
                original_file_path=file,
                severity_policy={
                    **(owner_team.severity_policy if owner_team else DEFAULT_SEVERITY_POLICY),
                    **_policy(pmeta.severity_policy),
                },
            )
        )
    # runbook entries must name nodes that exist, or they would never match
    names = {n.name for n in manifest.nodes.values()}
    for pipeline in pipelines:
        for i, issue in enumerate(pipeline.common_issues):
            for j, name in enumerate(issue.nodes):
                if name not in names:
                    issues.append(
                        ConfigIssue(
                            pipeline.original_file_path,
                            f"exposures[{pipeline.exposure_name}].config.meta"
                            f".common_issues[{i}].nodes[{j}]",
                            f"no model, source, seed or test named {name!r}",
                        )
                    )
    # models/sources may name an owning team in meta.owner (Elementary's key)
    for node in sorted(manifest.nodes.values(), key=lambda n: n.unique_id):
        owner = node.meta.get("owner")
        if isinstance(owner, str) and owner not in known_teams and not owner.startswith("@"):
            if "@" in owner:
                continue  # an e-mail, as Elementary allows
            issues.append(
                ConfigIssue(
                    node.original_file_path,
                    f"{node.resource_type}s[{node.name}].config.meta.owner",
                    f"unknown team {owner!r}",
                )
            )
    return OnCallConfig(teams=teams, pipelines=tuple(pipelines)), issues


def load(manifest: Manifest) -> OnCallConfig:
    """The configuration, or ConfigError listing every issue."""
    config, issues = collect(manifest)
    if issues:
        raise ConfigError(issues)
    return config
