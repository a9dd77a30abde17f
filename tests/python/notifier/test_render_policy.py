"""Messages people can act on, and the severity policy, on the real artifacts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from prometheus import artifacts
from prometheus.notifier import ownership, render, routing
from prometheus.notifier import problems as findings
from prometheus.notifier.channels import pagerduty_events
from prometheus.notifier.incidents import Store, compose, observe

AT = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)
LINKS = routing.Links(report="https://r.example/", docs="https://d.example", warehouse="wh.duckdb")


def first_run(fixtures, tmp_path):
    run = fixtures.run()
    config = fixtures.config()
    result = routing.route(run.manifest, config, findings.find_problems(run), AT, "run-1")
    store = Store(tmp_path / "s.sqlite")
    with store.transaction() as con:
        changes = store.reconcile(con, observe(result, config), findings.passed(run), AT, "run-1")
    return {m.team: m for m in compose(result, changes, config, AT, "run-1", LINKS)}


def test_a_long_message_is_split_never_cut(fixtures, tmp_path):
    de = first_run(fixtures, tmp_path)["data_engineering"]
    # 40 failing checks with long messages: far past one Slack message
    many = tuple(
        replace(p, unique_id=f"{p.unique_id}_{i}", name=f"{p.name}_{i}", message="x" * 900)
        for i in range(10)
        for p in de.problems
    )
    big = replace(de, problems=many)
    parts = render.slack_payloads(big)
    assert len(parts) > 1
    for part in parts:
        assert len(part["blocks"]) <= render.SLACK_BLOCKS_MAX
        for block in part["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= render.SLACK_TEXT_MAX
    text = json.dumps(parts)
    assert all(p.name in text for p in many)  # every failing check is in some part
    assert parts[0]["blocks"][0]["type"] == "header"  # the headline first
    assert "continued in the next message" in json.dumps(parts[0])
    assert f"(2/{len(parts)})" in parts[1]["text"]
    # a failure message cannot fake a mention: our text is escaped, mentions are real
    tricky = replace(de, problems=(replace(de.problems[0], status="error",
                                           message="<!channel> a < b & c"),))  # fmt: skip
    (only,) = render.slack_payloads(tricky)
    body = json.dumps(only)
    assert "&lt;!channel&gt; a &lt; b &amp; c" in body and "<!channel>" not in body
    assert "<@U0ZOE0001>" in body


def test_message_is_actionable(fixtures, tmp_path):
    de = first_run(fixtures, tmp_path)["data_engineering"]
    text = render.render_text(de)
    first_line = text.splitlines()[0]
    assert first_line.startswith("[BLOCKING] 3 failing check(s), 4 failing row(s)")  # no warning
    assert "held back: Aggregate profit for investors, Unit-level profit for experiments" in (
        first_line
    )
    assert "2026-01-28 12:00 UTC (12:00 GMT Europe/London)" in text
    assert 'query: duckdb -readonly wh.duckdb -c \'select * from "dq_failures".' in text
    assert "report: https://r.example/#/test-results/test.prometheus.not_null_stg_" in text
    assert "docs: https://d.example/#!/test/test.prometheus.not_null_stg_" in text
    ba = first_run(fixtures, tmp_path / "b")["business_analytics"]
    assert "(07:00 EST America/New_York)" in render.render_text(ba)
    # one failing-row count everywhere: text, JSON, the incident history
    not_null = next(p for p in de.problems if p.name == "not_null_stg_app__orders_user_id")
    assert not_null.failing_rows == 2
    assert "not_null_stg_app__orders_user_id, 2 failing row(s)" in text
    assert {c.rows for c in de.changes if c.test == not_null.unique_id} == {2}
    assert (
        next(p for p in de.to_dict()["problems"] if p["name"] == not_null.name)["failing_rows"] == 2
    )


def test_warnings_go_to_the_channel_without_paging(fixtures, tmp_path):
    run = fixtures.run()
    config = fixtures.config()
    warn = [p for p in findings.find_problems(run) if p.status == "warn"]
    assert warn, "the corrupted build has a warning"
    result = routing.route(run.manifest, config, warn, AT, "run-1")
    store = Store(tmp_path / "s.sqlite")
    with store.transaction() as con:
        changes = store.reconcile(con, observe(result, config), (), AT, "run-1")
    messages = compose(result, changes, config, AT, "run-1", LINKS)
    # the owning teams' channels only: not the engineers watching the investor marts
    assert {m.team for m in messages} == {"business_analytics", "finance_risk"}
    assert {m.team for m in result.messages} >= {"data_engineering"}
    assert all(not m.paging and m.mentions == () for m in messages)
    assert all(pagerduty_events(m) == [] for m in messages)  # nobody paged
    assert all("not paging: warnings only" in render.render_text(m) for m in messages)
    assert all(m.title.startswith("[WARNING]") for m in messages)


def manifest_with(fixtures, tmp_path, edit):
    data = json.loads((fixtures.target / "manifest.json").read_text())
    edit(data)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    return artifacts.read_manifest(path)


@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        (lambda d: d["groups"]["group.prometheus.finance_risk"]["config"]["meta"][
            "severity_policy"].update(fail="pager"),
         "groups[finance_risk].config.meta.severity_policy.fail", "Input should be 'page' or"),
        (lambda d: d["exposures"]["exposure.prometheus.aggregate_profit_investors"]["config"][
            "meta"].update(severity_policy={"failed": "page"}),
         "exposures[aggregate_profit_investors].config.meta.severity_policy.failed.[key]",
         "Input should be 'fail'"),
        (lambda d: d["exposures"]["exposure.prometheus.unit_level_profit_experiments"][
            "config"]["meta"]["common_issues"][0].update(nodes=["stg_finance__filingz"]),
         "exposures[unit_level_profit_experiments].config.meta.common_issues[0].nodes[0]",
         "no model, source, seed or test named 'stg_finance__filingz'"),
        (lambda d: d["groups"]["group.prometheus.data_engineering"]["config"]["meta"][
            "members"][0].update(slack_id="@priya"),
         "groups[data_engineering].config.meta.members[0].slack_id", "should match pattern"),
    ],
)  # fmt: skip
def test_severity_policy_and_runbook_are_validated_with_the_oncall_rules(
    fixtures, tmp_path, edit, key, message
):
    _, issues = ownership.collect(manifest_with(fixtures, tmp_path, edit))
    assert any(i.key.endswith(key) and message in i.message for i in issues), issues


def test_a_pipeline_can_page_on_warnings(fixtures, tmp_path):
    def edit(d):
        meta = d["exposures"]["exposure.prometheus.unit_level_profit_experiments"]["config"]
        meta["meta"]["severity_policy"] = {"warn": "page"}

    config = ownership.load(manifest_with(fixtures, tmp_path, edit))
    unit = next(p for p in config.pipelines if p.name == "unit_level_profit")
    agg = next(p for p in config.pipelines if p.name == "aggregate_profit")
    assert (unit.action("warn"), unit.action("fail")) == ("page", "page")
    assert (agg.action("warn"), agg.action("fail")) == ("channel", "page")


def test_on_spark_the_ready_query_is_dbt_show_on_the_spark_target(fixtures, tmp_path):
    de = first_run(fixtures, tmp_path)["data_engineering"]
    on_spark = replace(de, links=replace(LINKS, engine="spark"))
    text = render.render_text(on_spark)
    assert (
        "query: PROMETHEUS_TARGET=spark .venv/bin/dbt show --limit 100 "
        '--inline \'select * from "dq_failures".'
    ) in text
    assert "duckdb -readonly" not in text
