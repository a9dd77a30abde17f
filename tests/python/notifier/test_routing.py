"""Routing on real artifacts of a corrupted `dbt build` (see conftest)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from prometheus.notifier import routing, stored_failures

ORDERS_NOT_NULL = "test.prometheus.not_null_stg_app__orders_user_id"
ORDERS_UNIQUE = "test.prometheus.unique_stg_app__orders_order_id"
FILINGS_NOT_NULL = "test.prometheus.not_null_stg_finance__filings_reported_usd"
UNIT_PROFIT = "exposure.prometheus.unit_level_profit_experiments"
AGG_PROFIT = "exposure.prometheus.aggregate_profit_investors"

LAST_WEEK = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)  # 25-31 January is the last week
MID_MONTH = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)


def by_prefix(problems, prefix):
    (found,) = [p for p in problems if p.unique_id.rsplit(".", 1)[0] == prefix]
    return found


@pytest.fixture(scope="module")
def routed(fixtures):
    run = fixtures.run()
    return run, fixtures.config(), routing.find_problems(run)


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
    text = routing.render_text(de)
    assert "missing values" in text and "1. Read the missing-value tests' stored failures" in text
    assert "not_null_stg_finance__filings_reported_usd, 1 failing row(s)" in text
    ba = messages["business_analytics"]
    assert ba.pipelines[0].why == ("primary owner",)
    assert "runbook: A lot of missing values" in routing.render_text(ba)


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
        (datetime(2026, 1, 7, 12, 0, tzinfo=UTC), "@priya"),
        (datetime(2026, 1, 14, 12, 0, tzinfo=UTC), "@tom"),
        (datetime(2026, 1, 19, 8, 59, tzinfo=UTC), "@tom"),  # before Monday's 09:00 handoff
        (datetime(2026, 1, 19, 9, 0, tzinfo=UTC), "@kenji"),
        (datetime(2026, 4, 13, 7, 59, tzinfo=UTC), "@tom"),  # 08:59 BST
        (datetime(2026, 4, 13, 8, 0, tzinfo=UTC), "@kenji"),  # 09:00 BST
    ],
)
def test_unit_profit_failure_reaches_profit_bi_and_engineer_on_rotation(routed, at, engineer):
    """Done when: a failing unit-profit test reaches the profit team's BI and the
    Data Engineer on rotation that week."""
    run, config, problems = routed
    unit = [by_prefix(problems, ORDERS_NOT_NULL)]
    messages = teams_of(routing.route(run.manifest, config, unit, at))
    fr = messages["finance_risk"]
    assert fr.mentions == ("@amara", "@lucas")  # the BI members, not the analyst
    assert [n.pipeline.name for n in fr.pipelines] == ["unit_level_profit"]
    de = messages["data_engineering"]
    assert de.mentions == (engineer,)
    assert [n.pipeline.name for n in de.pipelines] == ["unit_level_profit"]
    assert de.pipelines[0].why == ("on call (weekly rotation)",)
    assert "Numbers don't align with numbers on accounts/filings." in routing.render_text(de)
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
    with_rows = routing.attach_samples(problems, samples)
    rows = by_prefix(with_rows, ORDERS_NOT_NULL).sample_rows
    assert len(rows) == 2 and all(r["user_id"] is None for r in rows)
    assert by_prefix(with_rows, ORDERS_UNIQUE).sample_rows[0]["n_records"] == 2
    text = routing.render_text(routing.Message(
        team="t", team_display="T", channel=None, email=None, run_id=None, at=MID_MONTH,
        status="fail", problems=(by_prefix(with_rows, ORDERS_NOT_NULL),), pipelines=(),
        mentions=(), suppression_hours=24, dedup_key="k",
    ))  # fmt: skip
    assert "row: order_id=o_" in text and "user_id=None" in text


def test_failing_row_counts_come_from_the_stored_rows(routed, fixtures):
    _, _, problems = routed
    counts = stored_failures.read_row_counts(problems, fixtures.duckdb)
    assert counts[by_prefix(problems, ORDERS_NOT_NULL).unique_id] == 2
    counted = routing.attach_samples(problems, {}, counts)
    not_null = by_prefix(counted, ORDERS_NOT_NULL)
    assert not_null.stored_row_count == 2
    # a tiered test's dbt `failures` is its severity level, not a row count
    tiered = replace(not_null, failures=2, stored_row_count=5)
    text = routing.render_text(routing.Message(
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
