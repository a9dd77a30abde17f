"""Incidents: one per (pipeline, failing test), in an append-only SQLite store.

Lifecycle, decided per run by :meth:`Store.reconcile`:

- **opened** on the first failure of a test for a pipeline (key
  ``<pipeline>|<test unique id>``; a failure that reaches no pipeline is keyed by
  its owning team, ``team:<name>|<test>``);
- **updated** (recorded, not sent) while it persists unchanged;
- **worsened** (sent again) when it gets worse: more failing rows, a worse status
  (warn -> fail/error), the severity policy now pages, or it now reaches a new team;
  a new pipeline impacted is a new incident, so it is opened (and sent);
- **eased** (sent) when it no longer pages (e.g. fail -> warn): PagerDuty's alert is
  acknowledged, the team's channel is told;
- **reminder** (sent again) when it has stayed open past the pipeline's re-notify
  interval (``alert_suppression_interval``, hours) since it was last sent;
- **resolved** (sent) when the test ran and passed again; a resolved incident that
  fails again opens a new incident.

The store never updates or deletes a row: ``incidents`` and ``events`` hold the
lifecycle, ``outbox`` the rendered messages (one row per message part and
destination, written in the same transaction as the events that caused them), and
``attempts`` the intent and the outcome of every delivery (see ``delivery``).
SQLite's locking serialises two notifiers (``BEGIN IMMEDIATE``); WAL journaling with
``synchronous=FULL`` keeps the file whole when a notifier is killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus.notifier.ownership import OnCallConfig
from prometheus.notifier.problems import SEVERITY, Problem
from prometheus.notifier.routing import Change, Links, Message, Routing

DEFAULT_STATE_FILE = "artifacts/notifier/incidents.sqlite"
SCHEMA_VERSION = "1"
SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists incidents (
    id integer primary key, key text not null, pipeline text, test text not null,
    opened_at text not null);
create index if not exists incidents_key on incidents (key, id);
create table if not exists events (
    id integer primary key, incident_id integer not null references incidents (id),
    at text not null, run_id text, kind text not null, status text not null,
    rows integer, action text not null, teams text not null, notified integer not null,
    reason text not null);
create index if not exists events_incident on events (incident_id, id);
create table if not exists outbox (
    id integer primary key, message_key text not null, destination text not null,
    team text not null, created_at text not null, payload text not null,
    unique (message_key, destination));
create table if not exists attempts (
    id integer primary key, outbox_id integer not null references outbox (id),
    at text not null, state text not null, pid integer, host text, detail text);
create index if not exists attempts_outbox on attempts (outbox_id, id);
"""


class StateError(Exception):
    """The store cannot be used (not a store, unreadable, newer schema)."""


@dataclass(frozen=True)
class Observation:
    """One (pipeline, failing test) in this run."""

    key: str
    pipeline: str | None
    problem: Problem
    action: str  # page | channel
    teams: tuple[str, ...]
    renotify_hours: float


@dataclass(frozen=True)
class OutboxRow:
    id: int
    message_key: str
    destination: str
    team: str
    created_at: datetime
    payload: Any
    state: str | None  # latest attempt: None, intent, sent, failed, fallback
    pid: int | None
    host: str | None
    attempt_at: datetime | None


def incident_key(pipeline: str | None, team: str | None, test: str) -> str:
    return f"{pipeline}|{test}" if pipeline else f"team:{team}|{test}"


def observe(routing: Routing, config: OnCallConfig) -> list[Observation]:
    """Every (pipeline, failing test) of the run and the teams it reaches."""
    pipelines = {p.name: p for p in config.pipelines}
    teams_of: dict[tuple[str | None, str], list[str]] = {}
    problems: dict[str, Problem] = {}
    for message in routing.messages:
        for problem in message.problems:
            problems[problem.unique_id] = problem
            hit = [n for n in message.pipelines if problem.unique_id in n.failing]
            for notice in hit:
                teams_of.setdefault((notice.pipeline.name, problem.unique_id), [])
                teams_of[(notice.pipeline.name, problem.unique_id)].append(message.team)
            if not hit:  # reaches no pipeline: the owning team's incident
                teams_of.setdefault((None, problem.unique_id), []).append(message.team)
    out = []
    for (pipeline_name, uid), teams in sorted(
        teams_of.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
    ):
        problem = problems[uid]
        if pipeline_name is not None:
            pipeline = pipelines[pipeline_name]
            action = pipeline.action(problem.status)
            owner = config.teams.get(pipeline.owner)
            hours = pipeline.alert_suppression_interval
            if hours is None:
                hours = owner.alert_suppression_interval if owner else 24.0
            if action == "channel" and pipeline.owner in teams:
                teams = [pipeline.owner]  # a warning: the owning team's channel only
        else:
            team = config.teams[teams[0]]
            action = team.severity_policy.get(problem.status, "page")
            hours = team.alert_suppression_interval
        out.append(
            Observation(
                key=incident_key(pipeline_name, teams[0], uid),
                pipeline=pipeline_name,
                problem=problem,
                action=action,
                teams=tuple(sorted(set(teams))),
                renotify_hours=hours,
            )
        )
    return out


def _now_text(at: datetime) -> str:
    return at.isoformat()


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Store:
    """The incident store: a SQLite file, opened per operation (safe across
    threads and processes)."""

    def __init__(self, path: Path | str, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.connect() as con:
                con.executescript(SCHEMA)
                con.execute(
                    "insert or ignore into meta (key, value) values ('schema_version', ?)",
                    (SCHEMA_VERSION,),
                )
                (version,) = con.execute(
                    "select value from meta where key = 'schema_version'"
                ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise StateError(
                f"{self.path}: not a notifier incident store ({exc}); move it away to start afresh"
            ) from None
        if version != SCHEMA_VERSION:
            raise StateError(f"{self.path}: store schema {version}, expected {SCHEMA_VERSION}")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            con.execute("pragma journal_mode = wal")
            con.execute("pragma synchronous = full")
            con.execute("pragma foreign_keys = on")
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An exclusive write transaction: a second notifier waits for it."""
        with self.connect() as con:
            con.execute("begin immediate")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")

    # ------------------------------------------------------------------ lifecycle

    @staticmethod
    def _open_incidents(con: sqlite3.Connection) -> dict[str, dict[str, Any]]:
        """key -> the open incident with its last event and its last sent event."""
        rows = con.execute(
            """
            select i.id, i.key, i.pipeline, i.test, i.opened_at,
                   e.kind, e.status, e.rows, e.action, e.teams, e.run_id,
                   n.at, n.status, n.rows, n.action, n.teams,
                   exists (select 1 from events where incident_id = i.id and notified = 1
                           and action = 'page')
            from incidents i
            join events e on e.id = (select max(id) from events where incident_id = i.id)
            left join events n on n.id = (
                select max(id) from events where incident_id = i.id and notified = 1)
            where e.kind != 'resolved'
            """
        ).fetchall()
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            out[r[1]] = {
                "id": r[0], "key": r[1], "pipeline": r[2], "test": r[3],
                "opened_at": _parse(r[4]), "kind": r[5], "status": r[6], "rows": r[7],
                "action": r[8], "teams": tuple(json.loads(r[9])), "run_id": r[10],
                "sent_at": _parse(r[11]), "sent_status": r[12], "sent_rows": r[13],
                "sent_action": r[14], "sent_teams": tuple(json.loads(r[15] or "[]")),
                "paged": bool(r[16]),
            }  # fmt: skip
        return out

    def reconcile(
        self,
        con: sqlite3.Connection,
        observations: Sequence[Observation],
        passed: Iterable[str],
        at: datetime,
        run_id: str | None,
    ) -> list[Change]:
        """Append this run's events (inside ``con``'s transaction) and return the
        changes. A run already recorded (same run id) appends nothing again."""
        open_now = self._open_incidents(con)
        ok = set(passed)
        changes: list[Change] = []

        def append(
            incident: int, kind: str, status: str, rows: int | None, action: str,
            teams: Sequence[str], notified: bool, reason: str,
        ) -> int:  # fmt: skip
            cur = con.execute(
                "insert into events (incident_id, at, run_id, kind, status, rows, action,"
                " teams, notified, reason) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (incident, _now_text(at), run_id, kind, status, rows, action,
                 json.dumps(list(teams)), int(notified), reason),
            )  # fmt: skip
            return int(cur.lastrowid or 0)

        for obs in observations:
            p = obs.problem
            rows = p.failing_rows
            current = open_now.get(obs.key)
            base: dict[str, Any] = {
                "key": obs.key, "pipeline": obs.pipeline, "test": p.unique_id, "name": p.name,
                "status": p.status, "rows": rows, "action": obs.action, "teams": obs.teams,
            }  # fmt: skip
            if current is None:
                cur = con.execute(
                    "insert into incidents (key, pipeline, test, opened_at) values (?, ?, ?, ?)",
                    (obs.key, obs.pipeline, p.unique_id, _now_text(at)),
                )
                incident = int(cur.lastrowid or 0)
                reason = f"new: {p.status}" + (
                    f", {rows} failing row(s)" if rows is not None else ""
                )
                append(incident, "opened", p.status, rows, obs.action, obs.teams, True, reason)
                changes.append(
                    Change(incident_id=incident, kind="opened", previous_status=None,
                           previous_rows=None, opened_at=at, reason=reason, **base)
                )  # fmt: skip
                continue
            prev: dict[str, Any] = {
                "incident_id": current["id"], "opened_at": current["opened_at"],
                "previous_status": current["sent_status"], "previous_rows": current["sent_rows"],
            }  # fmt: skip
            if run_id is not None and current["run_id"] == run_id:
                changes.append(
                    Change(kind="updated", reason="already recorded for this run", **prev, **base)
                )
                continue
            worse = []
            if SEVERITY.get(p.status, 0) > SEVERITY.get(current["sent_status"] or "", 0):
                worse.append(f"{current['sent_status']} -> {p.status}")
            if (
                rows is not None
                and current["sent_rows"] is not None
                and rows > current["sent_rows"]
            ):
                worse.append(f"{rows} failing rows, was {current['sent_rows']}")
            if obs.action == "page" and current["sent_action"] != "page":
                worse.append("now pages")
            new_teams = sorted(set(obs.teams) - set(current["sent_teams"]))
            if new_teams:
                worse.append("now reaches " + ", ".join(new_teams))
            eased = obs.action != "page" and current["sent_action"] == "page"
            teams = obs.teams
            if eased:  # tell everyone who was paged that it no longer blocks
                teams = tuple(sorted(set(obs.teams) | set(current["sent_teams"])))
            sent_at = current["sent_at"] or current["opened_at"]
            due = at - sent_at >= timedelta(hours=obs.renotify_hours)
            if worse:
                kind, reason = "worsened", "worse: " + "; ".join(worse)
            elif eased:
                kind = "eased"
                reason = f"no longer blocking: {current['sent_status']} -> {p.status}"
            elif due:
                kind = "reminder"
                reason = f"still open after {obs.renotify_hours:g} h (re-notify interval)"
            else:
                kind = "updated"
                reason = "persists" + (f", {rows} failing row(s)" if rows is not None else "")
            append(
                current["id"],
                kind,
                p.status,
                rows,
                obs.action,
                teams,
                kind != "updated",
                reason,
            )
            changes.append(Change(kind=kind, reason=reason, **prev, **{**base, "teams": teams}))

        seen = {o.key for o in observations}
        for key, current in sorted(open_now.items()):
            if key in seen or current["test"] not in ok:
                continue  # still failing, or did not run this time
            teams = current["sent_teams"] or current["teams"]
            # an incident that ever paged is resolved where it paged (PagerDuty too)
            action = "page" if current["paged"] else current["sent_action"] or current["action"]
            append(
                current["id"], "resolved", current["status"], 0, action, teams, True, "passes again"
            )
            changes.append(
                Change(
                    incident_id=current["id"], key=key, kind="resolved",
                    pipeline=current["pipeline"], test=current["test"],
                    name=current["test"].split(".")[2] if current["test"].count(".") >= 2
                    else current["test"],
                    status=current["status"], rows=0, previous_status=current["sent_status"],
                    previous_rows=current["sent_rows"], opened_at=current["opened_at"],
                    action=action, reason="passes again", teams=tuple(teams),
                )
            )  # fmt: skip
        return changes

    def history(self) -> list[dict[str, Any]]:
        """Every event, oldest first."""
        with self.connect() as con:
            rows = con.execute(
                "select i.id, i.key, e.kind, e.status, e.rows, e.notified, e.at, e.run_id"
                " from events e join incidents i on i.id = e.incident_id order by e.id"
            ).fetchall()
        keys = ("incident", "key", "kind", "status", "rows", "notified", "at", "run_id")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # --------------------------------------------------------------------- outbox

    @staticmethod
    def add_outbox(
        con: sqlite3.Connection, message_key: str, destination: str, team: str,
        at: datetime, payload: Any,
    ) -> None:  # fmt: skip
        con.execute(
            "insert or ignore into outbox (message_key, destination, team, created_at, payload)"
            " values (?, ?, ?, ?, ?)",
            (message_key, destination, team, _now_text(at), json.dumps(payload, default=str)),
        )

    def pending(self, since: datetime) -> list[OutboxRow]:
        """Outbox rows created since ``since`` whose latest attempt is not 'sent'."""
        with self.connect() as con:
            rows = con.execute(
                """
                select o.id, o.message_key, o.destination, o.team, o.created_at, o.payload,
                       a.state, a.pid, a.host, a.at
                from outbox o
                left join attempts a on a.id = (
                    select max(id) from attempts where outbox_id = o.id)
                where o.created_at >= ? and coalesce(a.state, '') != 'sent'
                order by o.id
                """,
                (_now_text(since),),
            ).fetchall()
        return [
            OutboxRow(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4]), json.loads(r[5]),
                      r[6], r[7], r[8], _parse(r[9]))
            for r in rows
        ]  # fmt: skip

    def claim(self, outbox_id: int, lease: timedelta, now: datetime) -> bool:
        """Record the intent to send (atomically): False if it was sent already, or
        another live notifier holds a fresh intent on it."""
        with self.transaction() as con:
            row = con.execute(
                "select state, pid, host, at from attempts where outbox_id = ?"
                " order by id desc limit 1",
                (outbox_id,),
            ).fetchone()
            if row is not None:
                state, pid, host, when = row
                if state == "sent":
                    return False
                if state == "intent" and not _stale(pid, host, _parse(when), lease, now):
                    return False
            con.execute(
                "insert into attempts (outbox_id, at, state, pid, host)"
                " values (?, ?, 'intent', ?, ?)",
                (outbox_id, _now_text(now), os.getpid(), socket.gethostname()),
            )
        return True

    def record(self, outbox_id: int, state: str, now: datetime, detail: str = "") -> None:
        with self.transaction() as con:
            con.execute(
                "insert into attempts (outbox_id, at, state, pid, host, detail)"
                " values (?, ?, ?, ?, ?, ?)",
                (outbox_id, _now_text(now), state, os.getpid(), socket.gethostname(), detail),
            )

    def fell_back(self, outbox_id: int) -> bool:
        with self.connect() as con:
            row = con.execute(
                "select 1 from attempts where outbox_id = ? and state = 'fallback' limit 1",
                (outbox_id,),
            ).fetchone()
        return row is not None

    def deliveries(self) -> list[dict[str, Any]]:
        """Every outbox row with its latest state (tests, reports)."""
        with self.connect() as con:
            rows = con.execute(
                """
                select o.message_key, o.destination, a.state,
                       (select count(*) from attempts where outbox_id = o.id and state = 'intent')
                from outbox o left join attempts a on a.id = (
                    select max(id) from attempts where outbox_id = o.id)
                order by o.id
                """
            ).fetchall()
        return [
            {"message_key": r[0], "destination": r[1], "state": r[2], "intents": r[3]} for r in rows
        ]


def _stale(
    pid: int | None, host: str | None, at: datetime | None, lease: timedelta, now: datetime
) -> bool:
    """An intent is stale when its notifier is gone (same host, no such process)
    or it is older than the lease (the run deadline)."""
    if at is None or now - at >= lease or now < at - lease:
        return True
    if host == socket.gethostname() and pid is not None:
        if pid == os.getpid():
            return True  # our own earlier attempt in this process
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


# ------------------------------------------------------------------------- compose


def message_key(team: str, changes: Iterable[Change], at: datetime) -> str:
    parts = sorted(f"{c.incident_id}:{c.kind}:{c.status}:{c.rows}" for c in changes)
    digest = hashlib.sha256("\n".join([team, at.isoformat(), *parts]).encode()).hexdigest()[:20]
    return f"{team}:{digest}"


def compose(
    routing: Routing,
    changes: Sequence[Change],
    config: OnCallConfig,
    at: datetime,
    run_id: str | None,
    links: Links,
) -> list[Message]:
    """One message per team for the changes to send (opened, worsened, reminder,
    resolved); a team with nothing to send gets no message."""
    by_team = {m.team: m for m in routing.messages}
    out = []
    teams = sorted({t for c in changes if c.notify for t in c.teams})
    for team in teams:
        mine = tuple(c for c in changes if c.notify and team in c.teams)
        firing = {c.test for c in mine if c.kind != "resolved"}
        pipelines_firing = {c.pipeline for c in mine if c.kind != "resolved"}
        paging = any(c.action == "page" for c in mine if c.kind != "resolved")
        base = by_team.get(team)
        team_cfg = config.teams[team]
        if base is None:
            base = Message(
                team=team, team_display=team_cfg.display_name, channel=team_cfg.channel,
                email=team_cfg.email, run_id=run_id, at=at, status="pass", problems=(),
                pipelines=(), mentions=(), suppression_hours=team_cfg.alert_suppression_interval,
                timezone=team_cfg.timezone,
            )  # fmt: skip
        problems = tuple(p for p in base.problems if p.unique_id in firing)
        notices = tuple(
            replace(n, failing=tuple(u for u in n.failing if u in firing))
            for n in base.pipelines
            if n.pipeline.name in pipelines_firing
        )
        status = (
            max((p.status for p in problems), key=lambda s: SEVERITY.get(s, 0))
            if problems
            else "pass"
        )
        out.append(
            replace(
                base,
                problems=problems,
                pipelines=notices,
                status=status,
                changes=mine,
                paging=paging,
                mentions=base.mentions if paging else (),
                dedup_key=message_key(team, mine, at),
                links=links,
                runbooks=tuple((u, r) for u, r in base.runbooks if u in firing),
            )
        )
    return out


def summary(changes: Sequence[Change]) -> list[str]:
    """One line per incident change, for the user (stdout)."""
    lines = []
    for c in changes:
        sent = "sent" if c.notify else "not re-sent"
        where = c.pipeline or "no pipeline"
        lines.append(
            f"incident #{c.incident_id} {c.kind.upper()} [{c.action}] {where} / {c.name}: "
            f"{c.reason} ({sent})"
        )
    return lines


def as_mapping(rows: Iterable[OutboxRow]) -> Mapping[str, list[OutboxRow]]:
    out: dict[str, list[OutboxRow]] = {}
    for row in rows:
        out.setdefault(row.destination, []).append(row)
    return out
