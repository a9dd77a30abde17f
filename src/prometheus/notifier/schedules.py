"""Who is on call at an instant: pure functions of the configuration and a time.

- Weekly rotation: shift ``n`` starts at the ``n``-th handoff (``handoff_weekday`` at
  ``handoff_time``, wall-clock in the rotation's time zone) counted from
  ``anchor_date``, and belongs to ``members[n % len(members)]``; shifts before the
  anchor go backwards through the list the same way. Handoffs are wall-clock, so a
  shift spanning a DST change is an hour shorter or longer, and the handoff still
  happens at 09:00 local time.
- Overrides: ``member`` replaces the scheduled person from ``start`` (inclusive) to
  ``end`` (exclusive); with ``replaces`` only while that person is scheduled.
- Last week of the month: the last ``last_week_of_month_days`` (7) calendar days of
  the month, in the team's time zone: 22-28 Feb 2027, 23-29 Feb 2028, 24-30 Apr,
  25-31 Jan; from local midnight to local midnight.
- Instants must be time-zone aware; everything is compared in UTC.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from prometheus.notifier.ownership import Member, Override, Pipeline, Rotation, Team, Watcher

UTC = ZoneInfo("UTC")


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone; pass an aware datetime")
    return at.astimezone(UTC)


def _local_instant(day: date, at_time: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at_time, tzinfo=tz).astimezone(UTC)


def shift_start_day(rotation: Rotation, at: datetime) -> date:
    """The local date of the handoff that started the shift running at ``at``."""
    at_utc = _utc(at)
    local = at_utc.astimezone(rotation.tz)
    back = (local.weekday() - rotation.handoff_weekday_index) % 7
    day = local.date() - timedelta(days=back)
    if _local_instant(day, rotation.handoff_time, rotation.tz) > at_utc:
        day -= timedelta(days=7)
    return day


def shift_bounds(rotation: Rotation, at: datetime) -> tuple[datetime, datetime]:
    """UTC start (inclusive) and end (exclusive) of the shift running at ``at``."""
    day = shift_start_day(rotation, at)
    return (
        _local_instant(day, rotation.handoff_time, rotation.tz),
        _local_instant(day + timedelta(days=7), rotation.handoff_time, rotation.tz),
    )


def scheduled_member(rotation: Rotation, at: datetime) -> str:
    """The member the rotation schedules at ``at``, before overrides."""
    weeks = (shift_start_day(rotation, at) - rotation.anchor_date).days // 7
    return rotation.members[weeks % len(rotation.members)]


def active_override(rotation: Rotation, at: datetime) -> Override | None:
    at_utc = _utc(at)
    scheduled = scheduled_member(rotation, at)
    for override in rotation.overrides:
        start, end = override.bounds(rotation.tz)
        if start <= at_utc < end and override.replaces in (None, scheduled):
            return override
    return None


@dataclass(frozen=True)
class RotationSlot:
    member: str
    scheduled: str
    override: Override | None = None


def rotation_on_call(rotation: Rotation, at: datetime) -> RotationSlot:
    """Who the rotation puts on call at ``at``, overrides applied."""
    scheduled = scheduled_member(rotation, at)
    override = active_override(rotation, at)
    member = override.member if override is not None else scheduled
    return RotationSlot(member=member, scheduled=scheduled, override=override)


def last_week_of_month_bounds(
    at: datetime, tz: ZoneInfo, days: int = 7
) -> tuple[datetime, datetime]:
    """UTC bounds of the last-``days``-calendar-days window of ``at``'s local month."""
    local = _utc(at).astimezone(tz)
    last_day = calendar.monthrange(local.year, local.month)[1]
    first = date(local.year, local.month, last_day - days + 1)
    after = date(local.year, local.month, last_day) + timedelta(days=1)
    return _local_instant(first, time(0), tz), _local_instant(after, time(0), tz)


def in_last_week_of_month(at: datetime, tz: ZoneInfo, days: int = 7) -> bool:
    local = _utc(at).astimezone(tz)
    last_day = calendar.monthrange(local.year, local.month)[1]
    return local.day > last_day - days


@dataclass(frozen=True)
class Duty:
    """One watcher of a pipeline, resolved at an instant."""

    team: str
    schedule: str
    role: str | None
    active: bool
    people: tuple[Member, ...]  # who is paged / watching while active
    note: str = ""  # e.g. "override for Tom Becker: holiday"


def _rotation_people(team: Team, at: datetime) -> tuple[tuple[Member, ...], str]:
    if team.rotation is None:
        return (), ""
    slot = rotation_on_call(team.rotation, at)
    member = team.member(slot.member)
    note = ""
    if slot.override is not None:
        replaced = team.member(slot.scheduled)
        who = replaced.name if replaced else slot.scheduled
        note = f"override for {who}" + (f": {slot.override.reason}" if slot.override.reason else "")
    return ((member,) if member else ()), note


def resolve_watcher(watcher: Watcher, team: Team, at: datetime) -> Duty:
    if watcher.schedule == "always":
        return Duty(team.name, watcher.schedule, watcher.role, True, team.with_role(watcher.role))
    if watcher.schedule == "weekly_rotation":
        people, note = _rotation_people(team, at)
        return Duty(team.name, watcher.schedule, watcher.role, True, people, note)
    # last_week_of_month: the whole team watches in its channel; the engineer on
    # rotation (or, without a rotation, everyone with the role) is paged
    active = in_last_week_of_month(at, team.tz, team.last_week_of_month_days)
    people, note = _rotation_people(team, at)
    if not people:
        people = team.with_role(watcher.role)
    return Duty(team.name, watcher.schedule, watcher.role, active, people, note)


def on_call(pipeline: Pipeline, teams: Mapping[str, Team], at: datetime) -> tuple[Duty, ...]:
    """Every watcher of ``pipeline`` at ``at`` (active or not), in declaration order."""
    return tuple(
        resolve_watcher(w, teams[w.team], at) for w in pipeline.watchers if w.team in teams
    )


def boundaries(team: Team, start: datetime, end: datetime) -> list[datetime]:
    """Instants in [start, end) where who is on call for ``team`` may change."""
    start, end = _utc(start), _utc(end)
    points: set[datetime] = set()
    if team.rotation is not None:
        rot = team.rotation
        cursor = shift_bounds(rot, start)[1]
        while cursor < end:
            points.add(cursor)
            cursor = shift_bounds(rot, cursor)[1]
        for override in rot.overrides:
            points.update(override.bounds(rot.tz))
    cursor = start
    while cursor < end:
        window = last_week_of_month_bounds(cursor, team.tz, team.last_week_of_month_days)
        points.update(window)
        cursor = window[1]
    return sorted(p for p in points if start < p < end)


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    duties: tuple[Duty, ...]


def timeline(
    pipeline: Pipeline, teams: Mapping[str, Team], start: datetime, end: datetime
) -> list[Segment]:
    """Who watches ``pipeline`` from ``start`` to ``end``, as segments with no change."""
    watcher_teams: Iterable[Team] = (teams[w.team] for w in pipeline.watchers if w.team in teams)
    points = sorted(
        {_utc(start), _utc(end), *(p for t in watcher_teams for p in boundaries(t, start, end))}
    )
    segments: list[Segment] = []
    for left, right in zip(points, points[1:], strict=False):
        duties = on_call(pipeline, teams, left)
        if segments and _active(segments[-1].duties) == _active(duties):
            segments[-1] = Segment(segments[-1].start, right, duties)
        else:
            segments.append(Segment(left, right, duties))
    return segments


def _active(duties: tuple[Duty, ...]) -> tuple[Duty, ...]:
    return tuple(d for d in duties if d.active)
