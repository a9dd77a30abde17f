"""The words the report shows: test descriptions and names, why a node was
skipped, and who owns and watches an exposure.

A test's description is its own ``description:`` when it has one (the
anomaly tests and the singular tests do); otherwise it is written from what
the project says elsewhere, in three parts:

- *What it checks*: the generic test's description (``_generic_tests.yml``,
  or dbt's own for unique/not_null/accepted_values/relationships), on which
  column of which model, with its arguments;
- *Why*: the tested model's description and what the test's severity does
  (an error holds back everything downstream, a warning only reports);
- *What to do*: the generic test's ``meta.what_to_do``, and where its
  failing rows are stored.

A dbt unit test without a ``description:`` gets one the same way: what its
name says about its model, why (a calculation the marts depend on), and the
command that runs it and prints the diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus.artifacts import Manifest, Node

# dbt's built-in generic tests, which the project cannot document in YAML
BUILTIN_TESTS: dict[str, tuple[str, str]] = {
    "unique": (
        "no value of the column appears twice.",
        "Find the duplicated keys in the failing rows; a duplicate usually comes from a "
        "re-delivered raw file or a join that fans out.",
    ),
    "not_null": (
        "the column has no NULL value.",
        "Find the rows with NULLs; check whether the raw delivery left the field empty "
        "or a join upstream found no match.",
    ),
    "accepted_values": (
        "every value of the column is one of an agreed list.",
        "A new value arrived upstream: agree with the source owner whether it is valid, "
        "then add it to the list or fix the data.",
    ),
    "relationships": (
        "every value of the column exists in the referenced model (no orphan keys).",
        "Find the orphan keys; usually the referenced table's load is late or partial.",
    ),
}
GENERIC_TODO = "Read the failing rows, fix the cause upstream, then re-run the model and its tests."
SHOWN_ARGUMENTS = 4  # arguments shown in a parameterised test's name


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.;])(\s|$)", text)
    return match.group(1) if match else text


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def anomaly_metric(test: Node) -> str:
    """The metric a dq_metric_anomaly test scores, from its row_condition."""
    condition = str(test.test_kwargs.get("row_condition") or "")
    found = re.search(r"metric_name\s*=\s*'([^']+)'", condition)
    if found:
        per = re.search(r"dimension\s*=\s*'([^']+)'", condition)
        suffix = f"_per_{per.group(1)}" if per and per.group(1) != "none" else ""
        return found.group(1) + suffix
    return str(test.test_kwargs.get("value_column") or test.column_name or "metric")


def _is_custom_name(test: Node) -> bool:
    short = test.test_short_name or ""
    prefixes = [short, f"{test.test_namespace}_{short}" if test.test_namespace else short]
    return not any(test.name.startswith(p) for p in prefixes if p)


def test_name(test: Node) -> str:
    """A name that tells a test from its siblings on the same model.

    A singular test keeps its name; a generic test named in YAML keeps that
    name without the model's prefix; an unnamed parameterised test is its
    macro's name with its main arguments; otherwise the macro's name.
    """
    short = test.test_short_name
    if not short:
        return test.name
    parent = (test.tested_node or "").rsplit(".", 1)[-1]
    if _is_custom_name(test):
        return test.name.removeprefix(parent + "_") if parent else test.name
    args = {k: v for k, v in test.test_kwargs.items() if k != "column_name"}
    if not args:
        return short
    shown = [f"{k}={_value(v)}" for k, v in list(args.items())[:SHOWN_ARGUMENTS]]
    more = ", ..." if len(args) > SHOWN_ARGUMENTS else ""
    return f"{short} ({', '.join(shown)}{more})"


def _where(test: Node, manifest: Manifest) -> str:
    parent = manifest.nodes.get(test.tested_node or "")
    model = parent.name if parent else "its model"
    return f"column {test.column_name} of {model}" if test.column_name else model


def _two_part(relation_name: str) -> str:
    """dq_failures.<table> from '"db"."dq_failures"."<table>"'."""
    names = [a or b for a, b in re.findall(r'"((?:[^"]|"")*)"|([^.]+)', relation_name)]
    return ".".join(names[-2:])


def unit_test_description(manifest: Manifest, test: Node) -> str:
    """A unit test's description when its YAML has none: what, why, what to do."""
    parent = manifest.nodes.get(test.tested_node or "")
    model = parent.name if parent else (test.model or "its model")
    words = test.name.removeprefix("test_").replace("_", " ")
    why_model = _first_sentence(parent.description) if parent and parent.description else ""
    return (
        f"What it checks: {words} (a dbt unit test of {model}: fixed input rows, the "
        "rows the model must return).\n"
        f"Why: {(why_model + ' ') if why_model else ''}The marts depend on this "
        f"calculation; a failure means the logic of {model} no longer gives the "
        "expected rows, and dbt build skips the model and everything built from it.\n"
        f"What to do: run `.venv/bin/dbt test -s {model},test_type:unit` and read the diff "
        "(the rows expected and the rows returned); fix the model, or the test if the "
        "rule changed on purpose."
    )


def test_description(manifest: Manifest, test: Node) -> str:
    """What the test checks, why, and what to do when it fails (see the module doc)."""
    own = " ".join(test.description.split())
    if own:
        return own
    if test.resource_type == "unit_test":
        return unit_test_description(manifest, test)
    short = test.test_short_name
    macro = manifest.test_macros.get(short or "")
    parent = manifest.nodes.get(test.tested_node or "")
    if short in BUILTIN_TESTS:
        checks, todo = BUILTIN_TESTS[short]
    elif macro is not None:
        checks = _lower_first(_first_sentence(macro.description)) or f"{short}."
        todo = str(macro.meta.get("what_to_do") or GENERIC_TODO)
    else:
        checks, todo = f"{short or test.name}.", GENERIC_TODO
    args = {k: v for k, v in test.test_kwargs.items() if k != "column_name"}
    with_args = (
        (" Arguments: " + "; ".join(f"{k} = {_value(v)}" for k, v in args.items()) + ".")
        if args
        else ""
    )
    why_model = _first_sentence(parent.description) if parent and parent.description else ""
    if (test.severity or "error").lower() == "error":
        impact = (
            "A failure holds back everything built from it (dbt build skips it), so a "
            "wrong number is not published."
        )
    else:
        impact = "A failure is reported as a warning; nothing is held back."
    stored = (
        f" The failing rows are stored in {_two_part(test.relation_name)}."
        if test.relation_name
        else ""
    )
    return (
        f"What it checks: on {_where(test, manifest)}, {checks}{with_args}\n"
        f"Why: {(why_model + ' ') if why_model else ''}{impact}\n"
        f"What to do: {todo}{stored}"
    )


# --------------------------------------------------------------------------- held back


def _unit_test_model(unique_id: str) -> str | None:
    parts = unique_id.split(".")
    return f"model.{parts[1]}.{parts[2]}" if len(parts) >= 4 else None


def _ancestors(manifest: Manifest, start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        uid = todo.pop()
        if uid in seen:
            continue
        seen.add(uid)
        todo.extend(p for p in manifest.parent_map.get(uid, ()) if not p.startswith("test."))
    return seen


def _short(unique_id: str) -> str:
    """A node's name from its unique id: type.package.name[.hash]; a unit test's is last."""
    parts = unique_id.split(".")
    if unique_id.startswith("unit_test.") or len(parts) < 3:
        return parts[-1]
    return parts[2]


def held_back_by(
    manifest: Manifest,
    problems: Iterable[Mapping[str, Any]],
    invocation_id: str,
    unique_id: str,
    shown: int = 3,
) -> str:
    """'Skipped: held back by ...': the errors and failures upstream of a node in one run."""
    node = manifest.nodes.get(unique_id) or manifest.unit_tests.get(unique_id)
    start = [unique_id]
    if node is not None and node.resource_type in ("test", "unit_test"):
        start = [n for n in node.depends_on_nodes if not n.startswith("test.")]
    upstream = _ancestors(manifest, start)
    causes = []
    for p in problems:
        if p["invocation_id"] != invocation_id or p["unique_id"] == unique_id:
            continue
        about = p.get("tested_unique_id")
        if p["resource_type"] == "unit_test":
            about = _unit_test_model(p["unique_id"])
        if p["unique_id"] in upstream or (about and about in upstream):
            message = " ".join(str(p.get("message") or "").split())
            causes.append(
                f"{_short(p['unique_id'])} ({p['status']}{': ' + message if message else ''})"
            )
    if not causes:
        return "Skipped: held back in this run (no failure upstream is stored)."
    more = f" and {len(causes) - shown} more" if len(causes) > shown else ""
    return "Skipped: held back by " + "; ".join(causes[:shown]) + more + "."


# --------------------------------------------------------------------------- exposures


def exposure_meta_markdown(manifest: Manifest, exposure: Node) -> str:
    """An exposure's owners, channel, watchers and common issues (its meta), as markdown.

    The exposure's description in YAML ends with exactly this (docs/dbt/exposures.md,
    checked by a test), so dbt docs shows it readably.
    """
    from prometheus.notifier import ownership

    config, _ = ownership.collect(manifest)
    pipeline = config.pipelines_by_exposure.get(exposure.unique_id)
    if pipeline is None:
        owner = exposure.owner
        return f"**Owner:** {owner.name} ({owner.email})" if owner else ""
    teams = config.teams

    def team_line(name: str | None) -> str:
        team = teams.get(name or "")
        if team is None:
            return str(name)
        contact = ", ".join(x for x in (team.email or team.owner_email, team.channel) if x)
        return f"{team.display_name} ({contact})" if contact else team.display_name

    lines = [f"**Pipeline:** {pipeline.name}", "", f"**Owner:** {team_line(pipeline.owner)}"]
    if pipeline.secondary_owner:
        lines += ["", f"**Secondary owner:** {team_line(pipeline.secondary_owner)}"]
    owner_team = teams.get(pipeline.owner)
    channel = pipeline.channel or (owner_team.channel if owner_team else None)
    if channel:
        lines += ["", f"**Channel:** {channel}"]
    if pipeline.watchers:
        lines += ["", "**Watchers:**", ""]
        for w in pipeline.watchers:
            team = teams.get(w.team)
            lines.append(
                f"- {team.display_name if team else w.team}"
                f"{' (' + w.role + ')' if w.role else ''}: {w.schedule.replace('_', ' ')}"
            )
    if pipeline.common_issues:
        lines += ["", "**Common issues:**", ""]
        for issue in pipeline.common_issues:
            lines.append(f"- {issue.issue}")
            lines.extend(f"    {i}. {step}" for i, step in enumerate(issue.steps, start=1))
    return "\n".join(lines)


def on_call_line(manifest: Manifest, exposure: Node, at: datetime) -> str:
    from prometheus.notifier import ownership, schedules

    config, _ = ownership.collect(manifest)
    pipeline = config.pipelines_by_exposure.get(exposure.unique_id)
    if pipeline is None:
        return ""
    at_utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    duties = schedules.on_call(pipeline, config.teams, at_utc)
    people = sorted({f"{m.name} ({m.email})" for d in duties if d.active for m in d.people})
    who = ", ".join(people) or "nobody (no watcher active)"
    return f"**On call at {at_utc:%Y-%m-%d %H:%M} UTC:** {who}"


def exposure_report_description(manifest: Manifest, exposure: Node, at: datetime | None) -> str:
    """The exposure's description with its meta (unless the YAML has it already) and,
    at a given time, who is on call."""
    text = exposure.description.strip()
    meta = exposure_meta_markdown(manifest, exposure)
    if meta and meta not in text:
        text = f"{text}\n\n{meta}".strip()
    if at is not None:
        text = f"{text}\n\n{on_call_line(manifest, exposure, at)}".strip()
    return text


def exposure_contacts(manifest: Manifest, exposure: Node, at: datetime | None) -> list[str]:
    """Who to reach about an exposure, as the report's owners list shows it: its owner
    (as in YAML), the secondary owner, the channel(s) and who is on call at ``at``."""
    from prometheus.notifier import ownership, schedules

    first = exposure.owner.name or exposure.owner.email if exposure.owner else None
    contacts = [first] if first else []
    config, _ = ownership.collect(manifest)
    pipeline = config.pipelines_by_exposure.get(exposure.unique_id)
    if pipeline is None:
        return contacts
    teams = config.teams
    for name in (pipeline.owner, pipeline.secondary_owner):
        team = teams.get(name or "")
        if team is not None:
            contacts.append(team.display_name)
    owner_team = teams.get(pipeline.owner)
    if owner_team is not None and (owner_team.email or owner_team.owner_email):
        contacts.append(str(owner_team.email or owner_team.owner_email))
    for name in (pipeline.owner, *(w.team for w in pipeline.watchers)):
        team = teams.get(name)
        channel = pipeline.channel if name == pipeline.owner and pipeline.channel else None
        channel = channel or (team.channel if team else None)
        if channel:
            contacts.append(channel)
    if at is not None:
        at_utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        for duty in schedules.on_call(pipeline, teams, at_utc):
            if duty.schedule == "always":
                continue
            when = "on call" if duty.active else f"on call ({duty.schedule.replace('_', ' ')})"
            contacts.extend(f"{when}: {m.name} ({m.email})" for m in duty.people)
    return list(dict.fromkeys(contacts))
