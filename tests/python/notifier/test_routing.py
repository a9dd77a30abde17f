"""Routing on real artifacts of a corrupted `dbt build` (see conftest)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from prometheus import artifacts
from prometheus.notifier import problems as findings
from prometheus.notifier import render, routing, stored_failures

ORDERS_NOT_NULL = "test.prometheus.not_null_stg_app__orders_user_id"
ORDERS_UNIQUE = "test.prometheus.unique_stg_app__orders_order_id"
FILINGS_NOT_NULL = "test.prometheus.not_null_stg_finance__filings_reported_usd"
UNIT_PROFIT = "exposure.prometheus.unit_level_profit_experiments"
APP_ORDERS = "source.prometheus.app.orders"
AGG_PROFIT = "exposure.prometheus.aggregate_profit_investors"

LAST_WEEK = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)  # 25-31 January is the last week
MID_MONTH = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)


def by_prefix(problems, prefix):
    (found,) = [p for p in problems if p.unique_id.rsplit(".", 1)[0] == prefix]
    return found


@pytest.fixture(scope="module")
def routed(fixtures):
    run = fixtures.run()
    return run, fixtures.config(), findings.find_problems(run)


@pytest.mark.parametrize(
    ("prefix", "failures", "exposures", "skipped_model"),
    [
        (ORDERS_NOT_NULL, 2, {AGG_PROFIT, UNIT_PROFIT}, "model.prometheus.fct_order_item_profit"),
        (ORDERS_UNIQUE, 1, {AGG_PROFIT, UNIT_PROFIT}, "model.prometheus.fct_order_item_profit"),
        (FILINGS_NOT_NULL, 1, {AGG_PROFIT}, "model.prometheus.fct_profit_quarterly"),
    ],
)
def test_failures_found_with_counts_lineage_and_folded_skips(
    routed, prefix, failures, exposures, skipped_model
):
    _, _, problems = routed
    problem = by_prefix(problems, prefix)
    assert problem.status == "fail"
    assert problem.failures == failures
    assert set(problem.exposures) == exposures
    assert skipped_model in problem.skipped
    assert problem.relation_name and "dq_failures" in problem.relation_name


def test_skipped_nodes_are_folded_not_reported(routed):
    _, _, problems = routed
    folded = {uid for p in problems for uid in p.skipped}
    assert "model.prometheus.fct_profit_quarterly" in folded
    assert not [p for p in problems if p.status == "skipped" and p.unique_id in folded]
    assert not [p for p in problems if p.status == "skipped"], "every skip has a cause here"


def teams_of(result):
    return {m.team: m for m in result.messages}


def test_investor_failure_last_week_reaches_business_analytics_and_data_engineers(routed):
    """Done when: a failing investor test during the last week of the month reaches
    Business Analytics and the Data Engineers' channel with the runbook."""
    run, config, problems = routed
    investor = [by_prefix(problems, FILINGS_NOT_NULL)]
    messages = teams_of(routing.route(run.manifest, config, investor, LAST_WEEK))
    assert set(messages) == {"business_analytics", "data_engineering"}
    de = messages["data_engineering"]
    assert de.channel == "#data-eng-oncall"
    (notice,) = de.pipelines
    assert notice.pipeline.name == "aggregate_profit"
    assert notice.why == ("on call (last week of month)",)
    text = render.render_text(de)
    # the filings test gets the filings steps, though routed via the investor pipeline
    # (whose own runbook is about missing values)
    assert "runbook: Numbers don't align with numbers on accounts/filings." in text
    assert "Compare fct_profit_quarterly with finance.filings" in text
    assert "missing values" not in text
    assert "not_null_stg_finance__filings_reported_usd, 1 failing row(s)" in text
    ba = messages["business_analytics"]
    assert ba.pipelines[0].why == ("primary owner",)
    assert "runbook: Numbers don't align with numbers on accounts/filings." in render.render_text(
        ba
    )


def test_investor_failure_mid_month_stays_with_business_analytics(routed):
    run, config, problems = routed
    investor = [by_prefix(problems, FILINGS_NOT_NULL)]
    messages = teams_of(routing.route(run.manifest, config, investor, MID_MONTH))
    assert set(messages) == {"business_analytics"}
    (duty,) = messages["business_analytics"].pipelines[0].duties
    assert duty.schedule == "last_week_of_month" and duty.active is False


@pytest.mark.parametrize(
    ("at", "engineer"),
    [
        (datetime(2026, 1, 7, 12, 0, tzinfo=UTC), "<@U0PRIYA01>"),
        (datetime(2026, 1, 14, 12, 0, tzinfo=UTC), "<@U0TOM0001>"),
        (datetime(2026, 1, 19, 8, 59, tzinfo=UTC), "<@U0TOM0001>"),  # before Monday's handoff
        (datetime(2026, 1, 19, 9, 0, tzinfo=UTC), "<@U0KENJI01>"),
        (datetime(2026, 4, 13, 7, 59, tzinfo=UTC), "<@U0TOM0001>"),  # 08:59 BST
        (datetime(2026, 4, 13, 8, 0, tzinfo=UTC), "<@U0KENJI01>"),  # 09:00 BST
    ],
)
def test_unit_profit_failure_reaches_profit_bi_and_engineer_on_rotation(routed, at, engineer):
    """Done when: a failing unit-profit test reaches the profit team's BI and the
    Data Engineer on rotation that week."""
    run, config, problems = routed
    unit = [by_prefix(problems, ORDERS_NOT_NULL)]
    messages = teams_of(routing.route(run.manifest, config, unit, at))
    fr = messages["finance_risk"]
    # real Slack mentions (member ids) of the BI members, not the analyst
    assert fr.mentions == ("<@U0AMARA01>", "<@U0LUCAS01>")
    assert [n.pipeline.name for n in fr.pipelines] == ["unit_level_profit"]
    de = messages["data_engineering"]
    assert de.mentions == (engineer,)
    assert [n.pipeline.name for n in de.pipelines] == ["unit_level_profit"]
    assert de.pipelines[0].why == ("on call (weekly rotation)",)
    # a not_null test gets the missing-values steps, whichever pipeline routed it
    assert "runbook: A lot of missing values" in render.render_text(de)
    # aggregate profit is downstream too: its owner hears about it
    assert [n.pipeline.name for n in messages["business_analytics"].pipelines] == [
        "aggregate_profit"
    ]


def test_one_message_per_team_with_stable_dedup_keys(routed):
    run, config, problems = routed
    first = routing.route(run.manifest, config, problems, LAST_WEEK, "run-1")
    again = routing.route(run.manifest, config, problems, LAST_WEEK, "run-2")
    teams = [m.team for m in first.messages]
    assert sorted(teams) == ["business_analytics", "data_engineering", "finance_risk"]
    assert len({m.dedup_key for m in first.messages}) == 3
    assert [m.dedup_key for m in first.messages] == [m.dedup_key for m in again.messages]
    de = teams_of(first)["data_engineering"]
    assert {n.pipeline.name for n in de.pipelines} == {"aggregate_profit", "unit_level_profit"}
    # the three corruptions, plus the null user_ids counted again as orders of
    # no known user (a warning of the user-coverage test)
    assert sorted(p.name for p in de.problems) == [
        "not_null_stg_app__orders_user_id",
        "not_null_stg_finance__filings_reported_usd",
        "stg_app__orders_user_id_exists_in_users",
        "unique_stg_app__orders_order_id",
    ]
    assert not first.unrouted


def test_dedup_key_changes_with_status_and_set_of_failures(routed):
    _, _, problems = routed
    one = by_prefix(problems, ORDERS_NOT_NULL)
    base = routing.dedup_key("finance_risk", [one])
    assert routing.dedup_key("finance_risk", [replace(one, status="warn")]) != base
    assert routing.dedup_key("finance_risk", [one, by_prefix(problems, ORDERS_UNIQUE)]) != base
    assert routing.dedup_key("business_analytics", [one]) != base
    assert routing.dedup_key("finance_risk", [replace(one, failures=99)]) == base


def test_problem_without_pipeline_goes_to_the_owning_group(routed):
    run, config, problems = routed
    orphan = replace(by_prefix(problems, ORDERS_UNIQUE), exposures=())
    result = routing.route(run.manifest, config, [orphan], MID_MONTH)
    assert [m.team for m in result.messages] == ["data_engineering"]
    assert result.messages[0].pipelines == ()
    unknown = replace(orphan, unique_id="test.elsewhere.x", checks=("model.elsewhere.y",))
    assert routing.route(run.manifest, config, [unknown], MID_MONTH).unrouted == (unknown,)


def test_stored_failing_rows_are_attached(routed, fixtures):
    _, _, problems = routed
    samples, notes = stored_failures.read_samples(problems, fixtures.duckdb, limit=5)
    assert notes == []
    with_rows = findings.attach_samples(problems, samples)
    rows = by_prefix(with_rows, ORDERS_NOT_NULL).sample_rows
    assert len(rows) == 2 and all(r["user_id"] is None for r in rows)
    assert by_prefix(with_rows, ORDERS_UNIQUE).sample_rows[0]["n_records"] == 2
    text = render.render_text(routing.Message(
        team="t", team_display="T", channel=None, email=None, run_id=None, at=MID_MONTH,
        status="fail", problems=(by_prefix(with_rows, ORDERS_NOT_NULL),), pipelines=(),
        mentions=(), suppression_hours=24, dedup_key="k",
    ))  # fmt: skip
    assert "row: order_id=o_" in text and "user_id=None" in text


def test_failing_row_counts_come_from_the_stored_rows(routed, fixtures):
    _, _, problems = routed
    counts = stored_failures.read_row_counts(problems, fixtures.duckdb)
    assert counts[by_prefix(problems, ORDERS_NOT_NULL).unique_id] == 2
    counted = findings.attach_samples(problems, {}, counts)
    not_null = by_prefix(counted, ORDERS_NOT_NULL)
    assert not_null.stored_row_count == 2
    # a tiered test's dbt `failures` is its severity level, not a row count
    tiered = replace(not_null, failures=2, stored_row_count=5)
    text = render.render_text(routing.Message(
        team="t", team_display="T", channel=None, email=None, run_id=None, at=MID_MONTH,
        status="fail", problems=(tiered,), pipelines=(),
        mentions=(), suppression_hours=24, dedup_key="k",
    ))  # fmt: skip
    assert ", 5 failing row(s)" in text


def test_missing_warehouse_means_no_rows_not_an_error(routed, tmp_path):
    _, _, problems = routed
    samples, notes = stored_failures.read_samples(problems, tmp_path / "absent.duckdb")
    assert samples == {}
    assert "no warehouse file" in notes[0]


def test_the_corrupted_build_as_read(fixtures):
    run = fixtures.run()
    assert run.manifest.schema_version == 12
    assert run.run_results is not None and run.run_results.schema_version == 6
    assert run.run_results.command == "build"
    assert run.sources is None
    statuses = {r.status for r in run.run_results.results}
    assert {"pass", "fail", "skipped", "success"} <= statuses
    group = run.manifest.groups_by_name["data_engineering"]
    assert group.original_file_path == "models/_groups.yml"
    assert group.meta["rotation"]["handoff_weekday"] == "monday"
    assert UNIT_PROFIT in run.manifest.exposures
    assert APP_ORDERS in run.manifest.nodes


def test_a_stale_source_checked_just_before_the_build_is_a_problem(fixtures, tmp_path):
    target = tmp_path / "target"
    shutil.copytree(fixtures.target, target, ignore=shutil.ignore_patterns("compiled", "run"))
    started = artifacts.read_run_results(target / "run_results.json").started_at
    assert started is not None
    (target / "sources.json").write_text(json.dumps({
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json",
                     "generated_at": (started - timedelta(minutes=30)).isoformat(),
                     "invocation_id": "another-run"},
        "results": [{"unique_id": APP_ORDERS, "status": "error",
                     "max_loaded_at": "2024-06-30T18:00:00Z"}],
        "elapsed_time": 1.0,
    }))  # fmt: skip
    run = artifacts.load_run(target)
    assert run.sources is not None and not run.notes
    fresh = next(p for p in findings.find_problems(run) if p.unique_id == APP_ORDERS)
    assert fresh.message == "source freshness error: max loaded at 2024-06-30T18:00:00+00:00"
    assert UNIT_PROFIT in fresh.exposures
    # a source holds no failing rows: the message offers no query of it
    assert run.manifest.nodes[APP_ORDERS].relation_name and fresh.relation_name is None
