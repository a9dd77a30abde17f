"""The experiment readout's figures from the experiment marts' rows (pure).

Per variant: assigned users (the growth mart's running count on the last
day), active users per day (its mean over the experiment's days), contribution
profit per assigned user (the profit mart's order lines after assignment, over
the assigned users, who bought nothing count as zero). Each is compared to the
control variant with a 95% Welch t-interval from scipy.stats (per user for
profit, per day for active users per assigned user).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from prometheus.errors import CliError

Row = Mapping[str, Any]
CONTROL = "control"
CONFIDENCE = 0.95
EXPERIMENT_MARTS = ("fct_experiment_growth_daily", "fct_experiment_order_item_profit")


@dataclass(frozen=True)
class Interval:
    difference: float  # variant minus control
    low: float
    high: float


@dataclass(frozen=True)
class Variant:
    variant: str
    assigned_users: int
    active_users_per_day: float
    active_vs_control: Interval | None  # per day, in users
    active_rate: float  # active users per day per assigned user
    contribution_profit_usd: Decimal
    contribution_profit_per_assigned_user: float
    profit_vs_control: Interval | None  # None for the control itself
    active_rate_vs_control: Interval | None


@dataclass(frozen=True)
class Readout:
    experiment_id: str
    experiment_name: str
    first_day: date
    last_day: date
    variants: tuple[Variant, ...]  # control first
    days: tuple[date, ...]
    active_by_day: Mapping[str, tuple[int, ...]]  # variant -> active users, per day


def welch(variant: Sequence[float], control: Sequence[float]) -> Interval:
    """The difference of means, variant minus control, with a Welch t-interval."""
    a, b = np.asarray(variant, dtype=float), np.asarray(control, dtype=float)
    if len(a) < 2 or len(b) < 2:
        diff = float(a.mean() - b.mean()) if len(a) and len(b) else float("nan")
        return Interval(diff, float("nan"), float("nan"))
    from scipy import stats  # imported when an interval is computed, not for a refusal

    result = stats.ttest_ind(a, b, equal_var=False)
    ci = result.confidence_interval(confidence_level=CONFIDENCE)
    return Interval(float(a.mean() - b.mean()), float(ci.low), float(ci.high))


def per_user_profit(profit_by_user: Mapping[Any, Decimal], assigned_users: int) -> list[float]:
    """Each assigned user's contribution profit: those without an order count as zero."""
    values = [float(v) for v in profit_by_user.values()]
    return values + [0.0] * max(0, assigned_users - len(values))


def assemble(
    experiment_id: str,
    experiments: Mapping[str, str],
    growth_rows: Sequence[Row],
    profit_by_user: Mapping[str, Mapping[Any, Decimal]],
) -> Readout:
    """The readout, or CliError for an unknown experiment or one without a control.

    ``experiments``: experiment id -> name; ``growth_rows``: the experiment's rows of
    fct_experiment_growth_daily; ``profit_by_user``: variant -> user -> contribution profit."""
    if experiment_id not in experiments:
        known = ", ".join(sorted(experiments)) or "none"
        raise CliError(f"unknown experiment {experiment_id!r} (known: {known})")
    if not growth_rows:
        raise CliError(f"experiment {experiment_id!r} has no days in fct_experiment_growth_daily")
    days = tuple(sorted({row["activity_date"] for row in growth_rows}))
    by_variant: dict[str, list[Row]] = {}
    for row in sorted(growth_rows, key=lambda r: r["activity_date"]):
        by_variant.setdefault(str(row["variant"]), []).append(row)
    if CONTROL not in by_variant:
        raise CliError(f"experiment {experiment_id!r} has no {CONTROL!r} variant to compare to")
    names = [CONTROL, *sorted(v for v in by_variant if v != CONTROL)]
    active = {v: tuple(int(r["active_users"]) for r in by_variant[v]) for v in names}
    assigned = {v: int(by_variant[v][-1]["assigned_users"]) for v in names}
    rate = {
        v: [
            int(r["active_users"]) / r["assigned_users"]
            for r in by_variant[v]
            if r["assigned_users"]
        ]
        for v in names
    }
    users = {v: per_user_profit(profit_by_user.get(v, {}), assigned[v]) for v in names}
    variants = []
    for v in names:
        total = sum(profit_by_user.get(v, {}).values(), Decimal(0))
        variants.append(
            Variant(
                variant=v,
                assigned_users=assigned[v],
                active_users_per_day=float(np.mean(active[v])),
                active_vs_control=None if v == CONTROL else welch(active[v], active[CONTROL]),
                active_rate=float(np.mean(rate[v])) if rate[v] else float("nan"),
                contribution_profit_usd=total,
                contribution_profit_per_assigned_user=(
                    float(total) / assigned[v] if assigned[v] else float("nan")
                ),
                profit_vs_control=None if v == CONTROL else welch(users[v], users[CONTROL]),
                active_rate_vs_control=None if v == CONTROL else welch(rate[v], rate[CONTROL]),
            )
        )
    return Readout(
        experiment_id=experiment_id,
        experiment_name=experiments[experiment_id],
        first_day=days[0],
        last_day=days[-1],
        variants=tuple(variants),
        days=days,
        active_by_day=active,
    )
