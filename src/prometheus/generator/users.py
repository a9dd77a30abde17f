"""app/users: signups growing over time, country -> currency, test and soft-deleted accounts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .columns import arrow, ids, labels, timestamps, uniform_us
from .params import US_PER_DAY, US_PER_HOUR, US_PER_MIN, Params

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD")
# country, weight, currency index
COUNTRIES = (
    ("US", 0.40, 0),
    ("GB", 0.10, 2),
    ("DE", 0.08, 1),
    ("FR", 0.06, 1),
    ("ES", 0.03, 1),
    ("IT", 0.03, 1),
    ("NL", 0.02, 1),
    ("IE", 0.01, 1),
    ("CA", 0.08, 3),
    ("AU", 0.06, 4),
    ("MX", 0.03, 0),
    ("BR", 0.03, 0),
    ("IN", 0.03, 0),
    ("JP", 0.02, 0),
    ("SG", 0.02, 0),
)
CHANNELS = ("organic", "paid_search", "paid_social", "referral", "partner")
CHANNEL_WEIGHTS = (0.38, 0.22, 0.2, 0.12, 0.08)
PLATFORMS = ("ios", "android", "web")
PLATFORM_WEIGHTS = (0.4, 0.35, 0.25)

USERS_AT_SCALE_1 = 100_000
TEST_SHARE = 0.01
DELETED_SHARE = 0.03
NULL_COUNTRY = 0.002
NULL_CHANNEL = 0.002
SIGNUP_GROWTH = 3.0  # signup density at the end is 1 + SIGNUP_GROWTH times that at the start


@dataclass
class Users:
    table: pa.Table
    signup_us: np.ndarray  # int64
    bound_us: np.ndarray  # deleted_at, else the end of the range (last instant of activity)
    is_test: np.ndarray  # bool
    currency: np.ndarray  # index into CURRENCIES
    activity: np.ndarray  # relative session rate, mean 1
    buying: np.ndarray  # relative order rate, mean 1
    platform: np.ndarray  # preferred platform index
    user_id: pa.Array

    @property
    def alive_days(self) -> np.ndarray:
        days: np.ndarray = (self.bound_us - self.signup_us) / US_PER_DAY
        return days


def user_ids(index: np.ndarray) -> pa.Array:
    """The user_id of the users at these row indexes (0-based)."""
    return ids("u_", np.asarray(index, dtype=np.int64) + 1, 7)


def build_users(p: Params) -> Users:
    rng = p.rng("app/users")
    n = p.count(USERS_AT_SCALE_1, minimum=20)
    # Inverse CDF of a linearly growing density 1 + g*t on [0, 1].
    g = SIGNUP_GROWTH
    u = rng.random(n)
    t = (-1 + np.sqrt(1 + 2 * g * (1 + g / 2) * u)) / g
    span = p.end_us - p.start_us
    signup = np.sort(p.start_us + (t * span).astype(np.int64))

    country = rng.choice(len(COUNTRIES), size=n, p=[c[1] for c in COUNTRIES])
    country_null = rng.random(n) < NULL_COUNTRY
    currency = np.array([c[2] for c in COUNTRIES])[country]
    currency[country_null] = 0
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_WEIGHTS)
    channel_null = rng.random(n) < NULL_CHANNEL
    is_test = rng.random(n) < TEST_SHARE
    deleted = rng.random(n) < DELETED_SHARE
    deleted_at = signup + ((0.05 + 0.95 * rng.random(n)) * (p.end_us - signup)).astype(np.int64)
    deleted_at = np.maximum(deleted_at, signup + 1)  # strictly after signup
    deleted &= deleted_at <= p.end_us
    bound = np.where(deleted, deleted_at, p.end_us)
    activity = rng.gamma(0.8, 1 / 0.8, n)
    buying = rng.gamma(0.9, 1 / 0.9, n)
    platform = rng.choice(len(PLATFORMS), size=n, p=PLATFORM_WEIGHTS)

    last_change = np.where(deleted, deleted_at, signup)
    loaded = uniform_us(rng, last_change + 5 * US_PER_MIN, last_change + 6 * US_PER_HOUR)
    loaded = np.minimum(loaded, p.extraction_us)

    user_id = user_ids(np.arange(n))
    table = pa.table(
        {
            "user_id": user_id,
            "signed_up_at": timestamps(signup),
            "country": labels([c[0] for c in COUNTRIES], country, country_null),
            "acquisition_channel": labels(CHANNELS, channel, channel_null),
            "is_test_account": arrow(is_test),
            "deleted_at": timestamps(deleted_at, ~deleted),
            "_loaded_at": timestamps(loaded),
        }
    )
    return Users(table, signup, bound, is_test, currency, activity, buying, platform, user_id)
