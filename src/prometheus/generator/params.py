"""Arguments of ``prometheus generate``: parsing, validation and derived times (pure).

All times are handled as int64 microseconds since the Unix epoch (UTC, naive) and
days as int days since the epoch, so the table builders stay vectorised.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from prometheus.errors import PrometheusError

US_PER_SEC = 1_000_000
US_PER_MIN = 60 * US_PER_SEC
US_PER_HOUR = 60 * US_PER_MIN
US_PER_DAY = 24 * US_PER_HOUR
EPOCH = dt.date(1970, 1, 1)


class ParamError(PrometheusError, ValueError):
    """A bad argument; the message names the problem."""


def parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ParamError(f"{what} {text!r} is not a date in YYYY-MM-DD form") from None


def default_dates(today: dt.date) -> tuple[dt.date, dt.date]:
    """Default range: end = yesterday, start = end minus 2 years plus 1 day."""
    end = today - dt.timedelta(days=1)
    try:
        two_back = end.replace(year=end.year - 2)
    except ValueError:  # 29 February
        two_back = end.replace(year=end.year - 2, day=28)
    return two_back + dt.timedelta(days=1), end


def resolve_dates(start: str | None, end: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The date range of ``--start``/``--end`` (``None``: the default), for generate and bench."""
    end_d = parse_date(end, "end date") if end is not None else default_dates(today)[1]
    if start is not None:
        start_d = parse_date(start, "start date")
    else:
        start_d, _ = default_dates(end_d + dt.timedelta(days=1))
    return start_d, end_d


def add_date_arguments(parser: argparse.ArgumentParser) -> None:
    """``--start`` and ``--end`` with the one default range (``default_dates``)."""
    parser.add_argument(
        "--start",
        default=None,
        help="first day YYYY-MM-DD (default: the end minus two years plus one day)",
    )
    parser.add_argument("--end", default=None, help="last day YYYY-MM-DD (default: yesterday, UTC)")


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def date_of_day(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


@dataclass(frozen=True)
class Params:
    scale: float
    seed: int
    start: dt.date
    end: dt.date
    defects: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.scale, (int, float)) or not math.isfinite(self.scale):
            raise ParamError(f"scale must be a finite number, got {self.scale!r}")
        if self.scale <= 0:
            raise ParamError(f"scale must be > 0, got {self.scale}")
        if self.seed < 0:
            raise ParamError(f"seed must be >= 0, got {self.seed}")
        if self.end < self.start:
            raise ParamError(f"end date {self.end} is before start date {self.start}")

    # --- derived times -------------------------------------------------------
    @property
    def start_day(self) -> int:
        return day_number(self.start)

    @property
    def end_day(self) -> int:
        return day_number(self.end)

    @property
    def n_days(self) -> int:
        return self.end_day - self.start_day + 1

    @property
    def start_us(self) -> int:
        """start 00:00:00."""
        return self.start_day * US_PER_DAY

    @property
    def end_us(self) -> int:
        """end 23:59:59 (the last instant anything may happen)."""
        return (self.end_day + 1) * US_PER_DAY - US_PER_SEC

    @property
    def extraction_us(self) -> int:
        """Extraction time: end + 1 day 06:00. Every ``_loaded_at`` is <= this."""
        return (self.end_day + 1) * US_PER_DAY + 6 * US_PER_HOUR

    @property
    def extraction_time(self) -> dt.datetime:
        return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=self.extraction_us)

    def count(self, at_scale_1: float, minimum: int = 1) -> int:
        """A row count target proportional to scale."""
        return max(minimum, int(round(at_scale_1 * self.scale)))

    def rng(self, name: str, chunk: int = 0) -> np.random.Generator:
        """Deterministic generator keyed by seed, a stable name hash and a chunk number."""
        key = zlib.crc32(name.encode("utf-8"))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, key, chunk])))

    def as_dict(self) -> dict[str, object]:
        return {
            "scale": self.scale,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "defects": list(self.defects),
        }


def make_params(
    scale: float | str,
    seed: int | str,
    start: str | None,
    end: str | None,
    today: dt.date,
    defects: tuple[str, ...] = (),
) -> Params:
    """Build validated :class:`Params` from command-line strings; ``today`` gives the defaults."""
    try:
        scale_f = float(scale)
    except (TypeError, ValueError):
        raise ParamError(f"scale {scale!r} is not a number") from None
    try:
        seed_i = int(seed)
    except (TypeError, ValueError):
        raise ParamError(f"seed {seed!r} is not an integer") from None
    start_d, end_d = resolve_dates(start, end, today)
    return Params(scale=scale_f, seed=seed_i, start=start_d, end=end_d, defects=tuple(defects))
