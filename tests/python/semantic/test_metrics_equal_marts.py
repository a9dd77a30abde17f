"""One answer: every investor mart's figures equal the governed metric of the same grain.

Each public mart's rows are compared with `mf query` (the MetricFlow CLI, as
an analyst runs it) of the same metrics, at the same grain, on the session's
generated dataset and build: money to the cent, counts exactly, rates to
1e-9 relative. The semantic layer's definitions (models/**/_*__metrics.yml)
and the marts' SQL are written independently, so a metric defined
differently from the mart fails here.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from dbt_harness import REPO_ROOT, Build

pytestmark = pytest.mark.slow

CENT = Decimal("0.01")
Key = tuple[str, ...]


def usd(text: str) -> Decimal:
    return Decimal(text).quantize(CENT, rounding=ROUND_HALF_UP)


def quarter_label(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Figure:
    """A mart column and the metric that must give the same figure."""

    column: str
    metric: str
    kind: str  # "usd", "count" or "rate"
    # the mart publishes it only between closed periods (null otherwise: an open
    # month's growth is no collapse); the metric is compared where it is published
    closed_only: bool = False


@dataclass(frozen=True)
class Case:
    """A mart, its grain (key columns) and the `mf query` group-by of that grain."""

    mart: str
    key_columns: tuple[str, ...]
    group_by: tuple[str, ...]
    figures: tuple[Figure, ...]
    # turns an `mf query` row's group-by values into the mart's key
    key_from_mf: Callable[[dict[str, str]], Key]
    # the mart's rows at that grain, when the mart is finer (default: as stored)
    sql: str | None = None


def _day(row: dict[str, str], column: str) -> str:
    return row[column][:10]


PROFIT_FIGURES = (
    Figure("net_revenue_usd", "net_revenue", "usd"),
    Figure("cogs_usd", "cogs", "usd"),
    Figure("refunds_usd", "refunds", "usd"),
    Figure("gross_profit_usd", "gross_profit", "usd"),
    Figure("shipping_usd", "shipping_costs", "usd"),
    Figure("payment_fees_usd", "payment_fees", "usd"),
    Figure("contribution_profit_usd", "contribution_profit", "usd"),
    Figure("gross_margin_rate", "gross_margin", "rate"),
)

CASES = (
    Case(
        "profit.fct_profit_monthly",
        ("month",),
        ("metric_time__month",),
        PROFIT_FIGURES,
        lambda row: (_day(row, "metric_time__month"),),
    ),
    Case(
        "profit.fct_profit_quarterly",
        ("fiscal_quarter",),
        ("metric_time__quarter",),
        PROFIT_FIGURES,
        lambda row: (quarter_label(date.fromisoformat(_day(row, "metric_time__quarter"))),),
    ),
    Case(
        "growth.fct_growth_monthly",
        ("month",),
        ("metric_time__month",),
        (
            Figure("monthly_active_users", "monthly_active_users", "count"),
            Figure("new_users", "new_users", "count"),
            Figure("mau_growth_rate", "mau_growth_rate", "rate", closed_only=True),
        ),
        lambda row: (_day(row, "metric_time__month"),),
    ),
    Case(
        "engagement.fct_engagement_monthly",
        ("month",),
        ("metric_time__month",),
        (
            Figure("avg_daily_active_users", "daily_active_users", "rate"),
            Figure("monthly_active_users", "monthly_active_users", "count"),
            Figure("stickiness_rate", "stickiness", "rate"),
            Figure("sessions_per_active_user", "sessions_per_active_user", "rate"),
            Figure("avg_session_minutes", "minutes_per_session", "rate"),
            Figure("events_per_session", "events_per_session", "rate"),
            Figure("sessions", "sessions", "count"),
        ),
        lambda row: (_day(row, "metric_time__month"),),
    ),
    Case(
        "growth.fct_active_users_daily",
        ("activity_date",),
        ("metric_time__day",),
        (
            Figure("active_users", "daily_active_users", "count"),
            Figure("new_users", "new_users", "count"),
        ),
        lambda row: (_day(row, "metric_time__day"),),
    ),
    Case(
        "growth.fct_experiment_growth_daily",
        ("activity_date", "experiment_id", "variant"),
        ("metric_time__day", "experiment_variant__experiment_id", "experiment_variant__variant"),
        (
            Figure("assigned_users", "experiment_assigned_users", "count"),
            Figure("active_users", "experiment_active_users", "count"),
            Figure("new_users", "experiment_new_users", "count"),
        ),
        lambda row: (
            _day(row, "metric_time__day"),
            row["experiment_variant__experiment_id"],
            row["experiment_variant__variant"],
        ),
    ),
    Case(
        "profit.fct_experiment_order_item_profit",
        ("experiment_id", "variant"),
        ("experiment_variant__experiment_id", "experiment_variant__variant"),
        (
            Figure("net_revenue_usd", "experiment_net_revenue", "usd"),
            Figure("contribution_profit_usd", "experiment_contribution_profit", "usd"),
        ),
        lambda row: (row["experiment_variant__experiment_id"], row["experiment_variant__variant"]),
        sql=(
            "select experiment_id, variant, sum(net_revenue_usd) as net_revenue_usd,"
            " sum(contribution_profit_usd) as contribution_profit_usd"
            " from profit.fct_experiment_order_item_profit group by experiment_id, variant"
        ),
    ),
)


@pytest.fixture(scope="module")
def mf_project(clean_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dbt project folder for `mf`: it reads <project>/target/semantic_manifest.json.

    The session's build writes its artifacts to its own target path, so the
    folder holds the project file and that build's semantic manifest.
    """
    assert clean_build.returncode == 0, clean_build.output[-3000:]
    project = tmp_path_factory.mktemp("mf_project")
    shutil.copy(REPO_ROOT / "dbt_project.yml", project / "dbt_project.yml")
    (project / "target").mkdir()
    shutil.copy(
        clean_build.target_dir / "semantic_manifest.json",
        project / "target" / "semantic_manifest.json",
    )
    return project


def mf(
    project: Path, build: Build, args: Sequence[str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = build.env()
    env.update({"DBT_PROJECT_DIR": str(project), "DBT_PROFILES_DIR": str(REPO_ROOT)})
    return subprocess.run(
        [str(Path(sys.executable).with_name("mf")), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def mf_query(project: Path, build: Build, case: Case) -> dict[Key, dict[str, str]]:
    out = project / f"{case.mart}.csv"
    metrics = ",".join(figure.metric for figure in case.figures)
    result = mf(
        project,
        build,
        [
            "query",
            "--metrics",
            metrics,
            "--group-by",
            ",".join(case.group_by),
            "--csv",
            str(out),
            "--quiet",
        ],
    )
    assert result.returncode == 0 and out.exists(), result.stdout + result.stderr
    with out.open(newline="") as handle:
        return {case.key_from_mf(row): row for row in csv.DictReader(handle)}


def mart_rows(build: Build, case: Case) -> dict[Key, dict[str, object]]:
    columns = [*case.key_columns, *(figure.column for figure in case.figures)]
    # fetchall keeps DECIMAL as Decimal
    with duckdb.connect(str(build.duckdb_path), read_only=True) as con:
        sql = case.sql or f"select {', '.join(columns)} from {case.mart}"
        rows = con.sql(f"select {', '.join(columns)} from ({sql}) as mart").fetchall()
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    return {tuple(str(record[c]) for c in case.key_columns): record for record in records}


def differs(kind: str, mart_value: object, mf_text: str) -> bool:
    if mart_value is None or mf_text == "":
        return not (mart_value is None and mf_text == "")
    if kind == "usd":
        assert isinstance(mart_value, Decimal)
        return usd(mf_text) != mart_value
    if kind == "count":
        assert isinstance(mart_value, int)
        return Decimal(mf_text) != mart_value
    assert isinstance(mart_value, float | int)
    return not math.isclose(float(mf_text), float(mart_value), rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[case.mart for case in CASES])
def test_mart_figures_equal_mf_query(case: Case, mf_project: Path, clean_build: Build) -> None:
    marts = mart_rows(clean_build, case)
    assert marts, f"{case.mart} is empty: nothing would be compared"
    answers = mf_query(mf_project, clean_build, case)

    missing = sorted(key for key in marts if key not in answers)
    assert not missing, f"mf query has no row for {case.mart} keys {missing[:5]}"
    compared = [
        (key, figure)
        for key in sorted(marts)
        for figure in case.figures
        if not (figure.closed_only and marts[key][figure.column] is None)
    ]
    for figure in case.figures:
        assert any(f == figure for _, f in compared), f"{figure.column}: nothing compared"
    mismatches = [
        (key, figure.column, marts[key][figure.column], answers[key][figure.metric])
        for key, figure in compared
        if differs(figure.kind, marts[key][figure.column], answers[key][figure.metric])
    ]
    assert not mismatches, (
        f"{len(mismatches)} figures of {case.mart} differ from mf query "
        f"(key, column, mart, metric): {mismatches[:10]}"
    )


def test_semantic_configs_validate(mf_project: Path, clean_build: Build) -> None:
    """`mf validate-configs`: the semantic manifest and its queries against the warehouse."""
    result = mf(mf_project, clean_build, ["validate-configs"])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "ERRORS: 0" in output and "Successfully validated metrics" in output, output


def test_every_metric_has_a_definition_and_an_owner(clean_build: Build) -> None:
    """Each metric states its definition and owner, and belongs to a team's group."""
    manifest = json.loads((clean_build.target_dir / "manifest.json").read_text())
    groups = {group["name"]: group for group in manifest["groups"].values()}
    metrics = list(manifest["metrics"].values())
    assert len(metrics) >= 20, [metric["name"] for metric in metrics]
    problems = []
    for metric in metrics:
        group = groups.get(metric.get("group") or "")
        owner = group["owner"]["name"] if group else None
        description = " ".join(metric["description"].split())
        if owner is None or f"Owner: {owner}." not in description or len(description) < 40:
            problems.append((metric["name"], metric.get("group"), description))
    assert not problems, problems
