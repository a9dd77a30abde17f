"""app/products and finance/product_costs (effective-dated, 1-4 periods per product).

Cost periods: the first valid_from is on or before the start date, later ones
start on distinct days inside the range, valid_to is the next valid_from (no
gaps, no overlaps) and null for the last period, so every product has exactly one
cost on every day of the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .columns import dates, decimals, ids, labels, timestamps, uniform_us
from .fx import LEVELS
from .params import US_PER_DAY, US_PER_HOUR, US_PER_MIN, Params
from .users import CURRENCIES

CATEGORIES = (
    "electronics",
    "home",
    "kitchen",
    "apparel",
    "beauty",
    "sports",
    "toys",
    "books",
    "garden",
    "grocery",
)
ADJECTIVES = (
    "Classic",
    "Smart",
    "Eco",
    "Pro",
    "Compact",
    "Deluxe",
    "Ultra",
    "Everyday",
    "Mini",
    "Premium",
)
NOUNS = (
    "Lamp",
    "Bottle",
    "Backpack",
    "Speaker",
    "Mug",
    "Jacket",
    "Blender",
    "Towel",
    "Puzzle",
    "Notebook",
    "Sneaker",
    "Planter",
    "Headphones",
    "Kettle",
    "Yoga Mat",
)
PERIOD_WEIGHTS = (0.3, 0.3, 0.25, 0.15)  # 1, 2, 3, 4 cost periods


@dataclass
class Catalog:
    products: pa.Table
    product_costs: pa.Table
    price_cents: np.ndarray  # [product, currency] local list price in cents
    popularity: np.ndarray  # probabilities


def build_catalog(p: Params) -> Catalog:
    rng = p.rng("app/products")
    n = max(20, int(round(250 * p.scale**0.5)))
    base_usd = np.exp(rng.normal(np.log(35), 0.8, n)).clip(3, 900)
    levels = np.array([LEVELS[c] for c in CURRENCIES])
    local = np.ceil(base_usd[:, None] / levels[None, :])  # whole units, then .99
    price_cents = (local * 100 - 1).astype(np.int64).clip(99, None)
    popularity = rng.pareto(1.2, n) + 0.05
    popularity /= popularity.sum()

    category = rng.integers(0, len(CATEGORIES), n)
    category_null = np.zeros(n, dtype=bool)
    category_null[rng.integers(0, n)] = True  # exactly one product without a category
    name = pc.binary_join_element_wise(
        labels(ADJECTIVES, rng.integers(0, len(ADJECTIVES), n)),
        labels(NOUNS, rng.integers(0, len(NOUNS), n)),
        ids("", rng.integers(100, 1000, n), 3),
        labels((" ",), np.zeros(n, dtype=np.int64)),  # the separator; a str imports pandas
    )
    updated = uniform_us(rng, np.full(n, p.start_us), np.full(n, p.end_us))
    products = pa.table(
        {
            "product_id": ids("p_", np.arange(1, n + 1), 5),
            "product_name": name,
            "category": labels(CATEGORIES, category, category_null),
            "updated_at": timestamps(updated),
            "_loaded_at": timestamps(
                updated + uniform_us(rng, np.full(n, 5 * US_PER_MIN), np.full(n, 6 * US_PER_HOUR))
            ),
        }
    )

    # --- cost periods ---------------------------------------------------------------
    k = rng.choice(4, size=n, p=PERIOD_WEIGHTS) + 1
    if p.n_days < 4:
        k[:] = 1
    hi = max(p.n_days - 2, 2)
    change = np.sort(rng.integers(1, hi, size=(n, 3)), axis=1) + np.arange(3)  # strictly increasing
    first = p.start_day - rng.integers(0, 366, n)
    starts = np.concatenate([first[:, None], p.start_day + change], axis=1)  # (n, 4)
    take = np.arange(4)[None, :] < k[:, None]
    drift = np.cumprod(1 + rng.normal(0, 0.06, size=(n, 4)), axis=1)
    drift[:, 0] = 1.0
    cost = base_usd[:, None] * rng.uniform(0.35, 0.6, n)[:, None] * drift
    cost_units = np.round(cost * 1e4).astype(np.int64).clip(1, None)  # DECIMAL(18,4)
    nxt = np.concatenate([starts[:, 1:], np.zeros((n, 1), dtype=starts.dtype)], axis=1)
    last = np.arange(4)[None, :] == (k - 1)[:, None]
    prod_idx = np.repeat(np.arange(n), 4).reshape(n, 4)
    vf, vt, lastm = starts[take], nxt[take], last[take]
    loaded_day = np.maximum(vf, p.start_day).astype(np.int64)
    product_costs = pa.table(
        {
            "product_id": ids("p_", prod_idx[take] + 1, 5),
            "valid_from": dates(vf),
            "valid_to": dates(np.where(lastm, 0, vt), lastm),
            "unit_cost_usd": decimals(cost_units[take], 18, 4),
            "_loaded_at": timestamps(loaded_day * US_PER_DAY + 2 * US_PER_HOUR),
        }
    )
    return Catalog(products, product_costs, price_cents, popularity)
