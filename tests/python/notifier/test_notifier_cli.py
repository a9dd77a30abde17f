"""`prometheus notify | oncall | validate-oncall` through the real dispatcher, on
the real artifacts of the corrupted build; bad input never sends anything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import prometheus.cli
from prometheus.cli import main

LAST_WEEK = "2026-01-28T12:00:00Z"
MINE = ("notify", "oncall", "validate-oncall")


@pytest.fixture(autouse=True)
def only_notifier_commands(monkeypatch):
    """Load only these commands, so other modules being written cannot break them."""
    monkeypatch.setattr(prometheus.cli, "COMMANDS", {k: prometheus.cli.COMMANDS[k] for k in MINE})
    for name in list(__import__("os").environ):
        if name.startswith(("PROMETHEUS_SLACK", "PROMETHEUS_WEBHOOK", "PROMETHEUS_SMTP")):
            monkeypatch.delenv(name)


@pytest.fixture
def target(fixtures, tmp_path) -> Path:
    """A private copy of the build's target dir, free to damage."""
    copy = tmp_path / "target"
    copy.mkdir()
    for name in ("manifest.json", "run_results.json"):
        shutil.copy(fixtures.target / name, copy / name)
    return copy


def notify(target: Path, tmp_path: Path, *extra: str, at: str = LAST_WEEK) -> int:
    return main([
        "notify", "--target-dir", str(target), "--at", at,
        "--state-file", str(tmp_path / "state.sqlite"),
        "--jsonl-path", str(tmp_path / "out.jsonl"),
        "--fallback-path", str(tmp_path / "undelivered.jsonl"),
        "--duckdb-path", str(tmp_path / "absent.duckdb"), *extra,
    ])  # fmt: skip


def jsonl(tmp_path: Path) -> list[dict]:
    path = tmp_path / "out.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_dry_run_prints_every_message_and_remembers_nothing(target, tmp_path, capsys):
    argv = ["notify", "--target-dir", str(target), "--at", LAST_WEEK,
            "--duckdb-path", str(tmp_path / "absent.duckdb")]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    for team in ("Business Analytics", "Data Engineering", "Finance/Risk"):
        assert f"for {team}" in out
    assert "runbook:" in out and "paging: <@U0ZOE0001>" in out
    assert out.count(" OPENED [") == 7  # 3 failing tests + 1 warning, per pipeline reached
    assert main(argv) == 0  # a throw-away store: the same again
    assert capsys.readouterr().out == out


def test_same_run_twice_sends_once(target, tmp_path, capsys):
    assert notify(target, tmp_path, "--channel", "jsonl") == 0
    sent = jsonl(tmp_path)
    assert sorted(m["team"] for m in sent) == [
        "business_analytics", "data_engineering", "finance_risk"
    ]  # fmt: skip
    de = next(m for m in sent if m["team"] == "data_engineering")
    assert {p["pipeline"] for p in de["pipelines"]} == {"aggregate_profit", "unit_level_profit"}
    assert {c["kind"] for c in de["changes"]} == {"opened"}
    capsys.readouterr()
    # the same artifacts again (a re-run of the notifier): recorded already, nothing sent
    assert notify(target, tmp_path, "--channel", "jsonl", at="2026-01-28T12:05:00Z") == 0
    assert len(jsonl(tmp_path)) == 3
    out = capsys.readouterr().out
    assert "already recorded for this run" in out and "nothing to send" in out


def test_fallback_exit_code_when_a_destination_stays_down(target, tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_WEBHOOK_URL", "http://127.0.0.1:9/secret-path")
    code = notify(target, tmp_path, "--channel", "webhook", "--attempts", "2",
                  "--backoff", "0", "--timeout", "1")  # fmt: skip
    assert code == 3
    assert len((tmp_path / "undelivered.jsonl").read_text().splitlines()) == 3


def corrupt(path: Path, how: str) -> None:
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_text(path.read_text()[:500])
    elif how == "unsupported":
        data = json.loads(path.read_text())
        data["metadata"]["dbt_schema_version"] = data["metadata"]["dbt_schema_version"].replace(
            "/v12.json", "/v99.json").replace("/v6.json", "/v99.json")  # fmt: skip
        path.write_text(json.dumps(data))
    elif how == "not-an-object":
        path.write_text("[]")


@pytest.mark.parametrize(
    ("artifact", "how", "expected"),
    [
        ("manifest.json", "missing", "manifest.json: not found"),
        ("run_results.json", "missing", "run_results.json: not found"),
        ("run_results.json", "truncated", "not valid JSON (truncated?)"),
        ("manifest.json", "truncated", "not valid JSON (truncated?)"),
        ("manifest.json", "unsupported", "manifest v99 is not supported (supported: v12)"),
        ("run_results.json", "unsupported", "run-results v99 is not supported"),
        ("run_results.json", "not-an-object", "expected a JSON object"),
    ],
)
def test_bad_artifacts_fail_clearly_and_send_nothing(
    target, tmp_path, capsys, artifact, how, expected
):
    corrupt(target / artifact, how)
    assert notify(target, tmp_path, "--channel", "jsonl") == 2
    captured = capsys.readouterr()
    assert expected in captured.err
    assert "Traceback" not in captured.err
    assert jsonl(tmp_path) == [] and captured.out == ""


def test_missing_channel_environment_sends_nothing(target, tmp_path, capsys):
    assert notify(target, tmp_path, "--channel", "jsonl", "--channel", "slack") == 2
    err = capsys.readouterr().err
    assert "PROMETHEUS_SLACK_WEBHOOK_BUSINESS_ANALYTICS or PROMETHEUS_SLACK_WEBHOOK" in err
    assert jsonl(tmp_path) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["notify", "--bogus"],
        ["notify", "--channel", "pager"],
        ["oncall", "--weeks", "many"],
        ["validate-oncall", "--extra"],
    ],
)
def test_unknown_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_bad_at_is_a_clear_error(target, tmp_path, capsys):
    assert notify(target, tmp_path, at="next tuesday") == 2
    assert "--at 'next tuesday': not an ISO date-time" in capsys.readouterr().err


def edit_manifest(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def de_meta(data: dict) -> dict:
    return data["groups"]["group.prometheus.data_engineering"]["config"]["meta"]


def exposure_meta(data: dict, name: str) -> dict:
    return data["exposures"][f"exposure.prometheus.{name}"]["config"]["meta"]


def _overlap(data: dict) -> None:
    de_meta(data)["rotation"]["overrides"] = [
        {"start": "2026-12-21", "end": "2026-12-28", "member": "de-zoe", "replaces": "de-tom"},
        {"start": "2026-12-24", "end": "2026-12-26", "member": "de-kenji", "replaces": "de-tom"},
    ]


INVALID = [
    (lambda d: de_meta(d)["rotation"]["members"].append("de-ghost"),
     "models/_groups.yml: groups[data_engineering].config.meta.rotation.members[4]: "
     "'de-ghost' is not a member of team data_engineering"),
    (lambda d: de_meta(d).update(timezone="Mars/Olympus_Mons"),
     "groups[data_engineering].config.meta.timezone: unknown time zone 'Mars/Olympus_Mons'"),
    (lambda d: exposure_meta(d, "daily_growth_experiments").update(owner="growth_team"),
     "models/marts/growth/_growth__exposures.yml: exposures[daily_growth_experiments]"
     ".config.meta.owner: unknown team 'growth_team'"),
    (lambda d: [m.pop("owner") for m in (exposure_meta(d, "aggregate_profit_investors"),
                d["exposures"]["exposure.prometheus.aggregate_profit_investors"]["meta"])],
     "exposures[aggregate_profit_investors].config.meta.owner: exposure without owners"),
    (_overlap, "rotation.overrides[1]: overlaps overrides[0] for the same slot"),
    (lambda d: exposure_meta(d, "daily_growth_experiments")["watchers"][0].update(schedule="daily"),
     "exposures[daily_growth_experiments].config.meta.watchers[0].schedule: Input should be"),
    (lambda d: de_meta(d)["rotation"].update(anchor_date="2026-01-06"),
     "anchor_date 2026-01-06 is a tuesday, not the handoff_weekday monday"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "expected"), INVALID)
def test_validate_oncall_names_file_and_key(target, tmp_path, capsys, edit, expected):
    edit_manifest(target / "manifest.json", edit)
    assert main(["validate-oncall", "--manifest", str(target / "manifest.json")]) == 1
    assert expected in capsys.readouterr().err
    # and notify refuses to route with a broken configuration: nothing sent
    assert notify(target, tmp_path, "--channel", "jsonl") == 2
    assert "invalid on-call configuration" in capsys.readouterr().err
    assert jsonl(tmp_path) == []


def test_validate_oncall_passes_on_the_project(fixtures, capsys):
    assert main(["validate-oncall", "--manifest", str(fixtures.target / "manifest.json")]) == 0
    assert "ok: 3 teams, 5 pipelines" in capsys.readouterr().out


def test_oncall_prints_each_pipeline_over_the_weeks(fixtures, capsys):
    argv = ["oncall", "--manifest", str(fixtures.target / "manifest.json"),
            "--at", "2026-01-20T00:00:00Z", "--weeks", "2"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("): owner ") == 5
    lines = [line.strip() for line in out.splitlines()]
    assert (
        "2026-01-25 00:00 UTC -> 2026-01-26 09:00 UTC  (Sun 25 Jan 00:00 GMT -> Mon 26 Jan 09:00 "
        "GMT Europe/London)  data_engineering last week of month: Kenji Sato"
    ) in lines
    assert (
        "2026-01-26 09:00 UTC -> 2026-02-02 09:00 UTC  (Mon 26 Jan 09:00 GMT -> Mon 02 Feb 09:00 "
        "GMT Europe/London)  finance_risk always: Amara Okafor, Lucas Meyer; data_engineering "
        "weekly rotation: Zoe Martin"
    ) in lines
    # a window without a scheduled watcher still names who hears about it, in local time
    assert (
        "2026-01-20 00:00 UTC -> 2026-01-25 00:00 UTC  (Mon 19 Jan 19:00 EST -> Sat 24 Jan 19:00 "
        "EST America/New_York)  owner team only: Business Analytics (Maya Chen, Omar Haddad, "
        "Ines Duarte) via #business-analytics-alerts, nobody paged"
    ) in lines


def test_oncall_per_person_view(fixtures, capsys):
    argv = ["oncall", "--manifest", str(fixtures.target / "manifest.json"),
            "--at", "2026-03-23T00:00:00Z", "--weeks", "2", "--person", "@zoe"]  # fmt: skip
    assert main(argv) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == "Zoe Martin (de-zoe, Data Engineering, Europe/London):"
    # her week ends at the 09:00 London handoff, 08:00 UTC after the DST change
    assert (
        "2026-03-23 09:00 UTC -> 2026-03-30 08:00 UTC  (Mon 23 Mar 09:00 GMT -> Mon 30 Mar "
        "09:00 BST Europe/London)  daily_growth (weekly rotation), unit_level_profit "
        "(weekly rotation)"
    ) in lines
    assert any("aggregate_profit (last week of month)" in line for line in lines)
    assert main(["oncall", "--manifest", str(fixtures.target / "manifest.json"),
                 "--person", "nobody"]) == 2  # fmt: skip
    assert "--person 'nobody': no such member (known: ba-analyst-ines" in capsys.readouterr().err


def test_oncall_now_prints_who_is_on_call_at_that_instant(fixtures, capsys):
    """What the main job prints: one line per pipeline, the people on call at --at."""
    argv = ["oncall", "--manifest", str(fixtures.target / "manifest.json"),
            "--at", "2026-01-26T10:00:00Z", "--now"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    now = [line.strip() for line in out.splitlines() if line.startswith("  ")]
    assert len(now) == out.count("): owner ") == 5
    assert all(line.startswith("on call now: ") for line in now)
    assert (
        "on call now: finance_risk always: Amara Okafor, Lucas Meyer; "
        "data_engineering weekly rotation: Zoe Martin (until 2026-02-02 09:00 UTC "
        "(Mon 02 Feb 09:00 GMT))"
    ) in now
