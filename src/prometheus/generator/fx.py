"""finance/fx_rates: one row per calendar day and currency, a random walk
around realistic levels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .columns import dates, decimals, labels, timestamps
from .params import US_PER_DAY, US_PER_HOUR, Params
from .users import CURRENCIES

# USD value of one unit, a typical level
LEVELS = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.74, "AUD": 0.66}
DAILY_VOL = 0.003


def build_fx(p: Params) -> tuple[pa.Table, np.ndarray]:
    """Return the table and the rates as an int64 array [day index, currency] in 1e-8 units."""
    rng = p.rng("finance/fx_rates")
    nd, nc = p.n_days, len(CURRENCIES)
    steps = rng.normal(0.0, DAILY_VOL, size=(nd, nc))
    walk = np.clip(np.cumsum(steps, axis=0), -0.15, 0.15)
    walk[:, 0] = 0.0
    levels = np.array([LEVELS[c] for c in CURRENCIES])
    rate = np.round(levels * np.exp(walk) * 1e8).astype(np.int64)
    rate[:, 0] = 100_000_000
    day = np.repeat(np.arange(p.start_day, p.end_day + 1), nc)
    cur = np.tile(np.arange(nc), nd)
    table = pa.table(
        {
            "rate_date": dates(day),
            "currency": labels(CURRENCIES, cur),
            "usd_per_unit": decimals(rate.ravel(), 18, 8),
            "_loaded_at": timestamps(day.astype(np.int64) * US_PER_DAY + US_PER_DAY + US_PER_HOUR),
        }
    )
    return table, rate
