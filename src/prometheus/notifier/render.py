"""Rendering messages: plain text (stdout, e-mail, fallbacks) and Slack Block Kit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from prometheus.notifier.problems import Problem
from prometheus.notifier.routing import Change, Message


def local_times(at: datetime, timezone: str) -> str:
    """``2026-01-28 12:00 UTC (12:00 GMT Europe/London)``."""
    utc = at.astimezone(UTC)
    local = at.astimezone(ZoneInfo(timezone))
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    if timezone != "UTC":
        day = "" if local.date() == utc.date() else local.strftime("%Y-%m-%d ")
        text += f" ({day}{local.strftime('%H:%M %Z')} {timezone})"
    return text


def ready_query(relation: str | None, warehouse: str | None, engine: str = "duckdb") -> str | None:
    """A query of the stored failing rows, ready to paste: DuckDB's CLI on the
    warehouse file; on another engine, `dbt show` against the build's target."""
    if not relation:
        return None
    parts = relation.split(".")
    table = ".".join(parts[1:]) if len(parts) == 3 else relation
    if engine != "duckdb":
        return (
            f"PROMETHEUS_TARGET={engine} .venv/bin/dbt show --limit 100 "
            f"--inline 'select * from {table}'"
        )
    db = warehouse or "warehouse/prometheus.duckdb"
    return f"duckdb -readonly {db} -c 'select * from {table} limit 100'"


def _change_line(change: Change) -> str:
    return f"{change.kind.upper()} incident #{change.incident_id}: {change.reason}"


def problem_lines(message: Message, problem: Problem, max_rows: int) -> list[str]:
    rows = problem.failing_rows
    count = f", {rows} failing row(s)" if rows is not None else ""
    lines = [f"- {problem.status.upper()} {problem.name}{count} ({problem.original_file_path})"]
    change = next((c for c in message.changes if c.test == problem.unique_id), None)
    if change is not None:
        lines.append(
            f"    {_change_line(change)}; open since "
            f"{local_times(change.opened_at, message.timezone)}"
        )
    if problem.message and problem.status != "fail":
        lines.append(f"    {problem.message}")
    if problem.skipped:
        lines.append("    skipped because of it: " + summarize_skipped(problem.skipped))
    if problem.relation_name:
        lines.append(f"    stored failing rows: {problem.relation_name}")
        query = ready_query(problem.relation_name, message.links.warehouse, message.links.engine)
        lines.append(f"    query: {query}")
    for row in problem.sample_rows[:max_rows]:
        lines.append("    row: " + ", ".join(f"{k}={v}" for k, v in row.items()))
    for label, url in (
        ("report", message.links.report_page(problem.unique_id)),
        ("docs", message.links.docs_page(problem.unique_id)),
    ):
        if url:
            lines.append(f"    {label}: {url}")
    for issue in message.runbook(problem.unique_id):
        lines.append(f"    runbook: {issue.issue}")
        lines.extend(f"      {i}. {step}" for i, step in enumerate(issue.steps, 1))
    return lines


def render_text(message: Message, max_rows: int = 3) -> str:
    """Plain-text rendering used by stdout, e-mail and fallbacks: headline first."""
    lines = [message.title]
    lines.append(
        f"at {local_times(message.at, message.timezone)}"
        + (f", run {message.run_id}" if message.run_id else "")
    )
    if message.mentions:
        lines.append("paging: " + ", ".join(message.mentions))
    elif message.problems and message.paging:
        lines.append("paging: nobody of this team is on call; the team's channel is told")
    elif message.problems:
        lines.append("not paging: warnings only (severity policy), the team's channel is told")
    if message.problems:
        lines.append("")
        lines.append("Problems:")
        for problem in message.problems:
            lines.extend(problem_lines(message, problem, max_rows))
    if message.resolved:
        lines.append("")
        lines.append("Resolved:")
        for change in message.resolved:
            lines.append(
                f"- RESOLVED incident #{change.incident_id} {change.pipeline or 'no pipeline'} / "
                f"{change.name}: passes again (open since "
                f"{local_times(change.opened_at, message.timezone)})"
            )
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
    return "\n".join(lines)


SLACK_TEXT_MAX = 3000  # a section's text
SLACK_BLOCKS_MAX = 50  # blocks per message


def _chunks(text: str, size: int) -> list[str]:
    """Split at line ends (a line longer than ``size`` is split hard), never drop."""
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > size:
            if current:
                out.append(current)
                current = ""
            out.append(line[:size])
            line = line[size:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > size:
            out.append(current)
            current = line
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def _mrkdwn(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in _chunks(text, SLACK_TEXT_MAX)
    ]


def slack_escape(text: str) -> str:
    """Slack mrkdwn control characters (&, <, >) in our own text, so a failure
    message cannot fake a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payloads(message: Message, max_rows: int = 3) -> list[dict[str, Any]]:
    """Block Kit messages: the headline first, real mentions, one section per
    failing check; split into several messages (1/n...) rather than cut."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
    ]
    if len(message.title) > 150:
        blocks += _mrkdwn(message.title)
    context = local_times(message.at, message.timezone)
    if message.run_id:
        context += f" | run {message.run_id}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    if message.mentions:
        blocks += _mrkdwn("*Paging:* " + " ".join(message.mentions))
    elif message.problems and message.paging:
        blocks += _mrkdwn("_Blocking; nobody of this team is on call: the channel is told._")
    elif message.problems:
        blocks += _mrkdwn("_Warnings only: nobody paged (severity policy)._")
    for problem in message.problems:
        lines = [slack_escape(line) for line in problem_lines(message, problem, max_rows)]
        lines[0] = "*" + lines[0][2:] + "*"
        blocks.append({"type": "divider"})
        blocks += _mrkdwn("\n".join(lines))
    if message.resolved:
        blocks.append({"type": "divider"})
        blocks += _mrkdwn(
            "*Resolved:*\n"
            + "\n".join(
                slack_escape(
                    f"• incident #{c.incident_id} {c.pipeline or 'no pipeline'} / {c.name}: "
                    "passes again"
                )
                for c in message.resolved
            )
        )
    for notice in message.pipelines:
        who = []
        for duty in notice.duties:
            if duty.active:
                people = ", ".join(m.mention for m in duty.people) or "nobody"
                who.append(f"{duty.team} {duty.schedule.replace('_', ' ')}: {people}")
        text = slack_escape(
            f"*Pipeline {notice.pipeline.label}* ({', '.join(notice.why)})\n"
            f"owners: {notice.owner} (primary)"
            + (f", {notice.secondary_owner} (secondary)" if notice.secondary_owner else "")
        ) + ("\non call: " + "; ".join(who) if who else "")
        blocks += _mrkdwn(text)
    groups = [
        blocks[i : i + SLACK_BLOCKS_MAX - 1] for i in range(0, len(blocks), SLACK_BLOCKS_MAX - 1)
    ]
    out = []
    for i, group in enumerate(groups, 1):
        part = f" ({i}/{len(groups)})" if len(groups) > 1 else ""
        if i > 1:
            group = [
                {
                    "type": "context",
                    "elements": [
                        {"type": "mrkdwn", "text": f"continued{part}: {message.title[:100]}"}
                    ],
                },
                *group,
            ]
        elif part:
            group = [
                *group,
                {
                    "type": "context",
                    "elements": [
                        {"type": "mrkdwn", "text": f"part{part}, continued in the next message"}
                    ],
                },
            ]
        out.append({"text": message.title + part, "blocks": group})
    return out


def summarize_skipped(skipped: Sequence[str]) -> str:
    """Models, snapshots, seeds and exposures by name; tests only counted."""
    named = [uid.split(".")[2] for uid in skipped if uid.split(".")[0] not in ("test", "unit_test")]
    tests = len(skipped) - len(named)
    text = ", ".join(named)
    if tests:
        text += (", and " if named else "") + f"{tests} test(s)"
    return text
