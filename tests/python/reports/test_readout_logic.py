"""The readout's figures and refusals on literal rows (fast)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from scipy import stats

from prometheus.errors import CliError
from prometheus.reports import readout

EXPERIMENTS = {"exp_a": "Experiment A"}


def growth_rows() -> list[dict[str, Any]]:
    found = []
    for i in range(10):
        day = date(2024, 7, 1) + timedelta(days=i)
        for variant, size, active in (("control", 10, 3 + i % 2), ("treatment", 12, 5 + i % 3)):
            found.append(
                {"activity_date": day, "variant": variant, "assigned_users": size,
                 "active_users": active, "new_users": 0}
            )  # fmt: skip
    return found


PROFIT = {
    "control": {1: Decimal("10.00"), 2: Decimal("5.50")},
    "treatment": {3: Decimal("20.00"), 4: Decimal("1.25"), 5: Decimal("3.00")},
}


def test_per_variant_figures_and_interval() -> None:
    result = readout.assemble("exp_a", EXPERIMENTS, growth_rows(), PROFIT)
    control, treatment = result.variants
    assert control.variant == "control" and control.profit_vs_control is None
    assert (control.assigned_users, treatment.assigned_users) == (10, 12)
    assert control.contribution_profit_usd == Decimal("15.50")
    assert control.contribution_profit_per_assigned_user == pytest.approx(1.55, abs=1e-12)
    assert treatment.contribution_profit_per_assigned_user == pytest.approx(24.25 / 12, abs=1e-12)
    assert control.active_users_per_day == pytest.approx(3.5)
    # the interval is scipy's Welch interval over every assigned user, zeros included
    a = [20.0, 1.25, 3.0] + [0.0] * 9
    b = [10.0, 5.5] + [0.0] * 8
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    found = treatment.profit_vs_control
    assert found is not None
    assert found.difference == pytest.approx(24.25 / 12 - 1.55, abs=1e-12)
    assert (found.low, found.high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert found.low < found.difference < found.high
    assert result.active_by_day["treatment"][:3] == (5, 6, 7)
    active = stats.ttest_ind(
        result.active_by_day["treatment"], result.active_by_day["control"], equal_var=False
    ).confidence_interval(0.95)
    assert treatment.active_vs_control is not None and control.active_vs_control is None
    assert (treatment.active_vs_control.low, treatment.active_vs_control.high) == pytest.approx(
        (active.low, active.high), abs=1e-12
    )
    assert (result.first_day, result.last_day) == (date(2024, 7, 1), date(2024, 7, 10))


def test_unknown_experiment_is_refused() -> None:
    with pytest.raises(CliError, match=r"unknown experiment 'exp_z' \(known: exp_a\)"):
        readout.assemble("exp_z", EXPERIMENTS, [], {})


def test_an_experiment_without_control_is_refused() -> None:
    rows = [r for r in growth_rows() if r["variant"] != "control"]
    with pytest.raises(CliError, match="no 'control' variant"):
        readout.assemble("exp_a", EXPERIMENTS, rows, PROFIT)


def test_users_without_orders_count_as_zero() -> None:
    assert readout.per_user_profit({1: Decimal("2.5")}, 3) == [2.5, 0.0, 0.0]
