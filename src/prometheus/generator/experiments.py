"""app/experiment_assignments: three experiments (ids fixed; a dbt seed lists them).

exp_checkout_redesign starts 60 days after the start date, exp_free_shipping_banner
at 40% and exp_search_ranking_v2 at 70% of the range (at 00:00 of that day). A share
of the users alive after the start is assigned, after signup, after the experiment
start and before deletion. An experiment that would start after the end date has no
assignments.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .columns import arrow, labels, timestamps, uniform_us
from .params import US_PER_DAY, US_PER_HOUR, US_PER_MIN, Params
from .users import Users

EXPERIMENTS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("exp_checkout_redesign", ("control", "treatment"), 0.5),
    ("exp_free_shipping_banner", ("control", "treatment"), 0.4),
    ("exp_search_ranking_v2", ("control", "treatment_a", "treatment_b"), 0.35),
)


def experiment_start_day(p: Params, experiment_id: str) -> int:
    if experiment_id == "exp_checkout_redesign":
        return p.start_day + 60
    share = {"exp_free_shipping_banner": 0.4, "exp_search_ranking_v2": 0.7}[experiment_id]
    return p.start_day + int(share * p.n_days)


def build_assignments(p: Params, users: Users) -> pa.Table:
    parts: list[pa.Table] = []
    for i, (exp_id, variants, share) in enumerate(EXPERIMENTS):
        rng = p.rng("app/experiment_assignments", i)
        start_us = experiment_start_day(p, exp_id) * US_PER_DAY
        lo = np.maximum(users.signup_us, start_us) + US_PER_MIN
        eligible = (users.bound_us > lo + US_PER_HOUR) & (rng.random(len(lo)) < share)
        idx = np.flatnonzero(eligible)
        # earlier assignment is likelier (users are assigned on their first visit)
        frac = rng.random(len(idx)) ** 2
        at = lo[idx] + (frac * (users.bound_us[idx] - lo[idx] - US_PER_MIN)).astype(np.int64)
        variant = rng.integers(0, len(variants), len(idx))
        parts.append(
            pa.table(
                {
                    "experiment_id": labels((exp_id,), np.zeros(len(idx), dtype=np.int64)),
                    "user_id": users.user_id.take(arrow(idx.astype(np.int64))),
                    "variant": labels(variants, variant),
                    "assigned_at": timestamps(at),
                    "_loaded_at": timestamps(
                        np.minimum(
                            uniform_us(rng, at + 5 * US_PER_MIN, at + 6 * US_PER_HOUR),
                            p.extraction_us,
                        )
                    ),
                }
            )
        )
    return pa.concat_tables(parts)
