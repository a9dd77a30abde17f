"""Vectorised numpy -> Arrow column helpers (ids, timestamps, dates, decimals, labels)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded number, e.g. ``u_0000042``."""
    digits = pc.utf8_lpad(
        pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()),
        width=width,
        padding="0",
    )
    return pc.binary_join_element_wise(prefix, digits, "")


def _mask(arr: pa.Array, null_mask: np.ndarray | None) -> pa.Array:
    if null_mask is None or not null_mask.any():
        return arr
    return pc.if_else(pa.array(null_mask), pa.scalar(None, arr.type), arr)


def timestamps(us: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """Microseconds since the epoch -> timestamp[us] (no time zone)."""
    return _mask(pa.array(np.asarray(us, dtype=np.int64), type=pa.timestamp("us")), null_mask)


def dates(days: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """Days since the epoch -> date32."""
    return _mask(pa.array(np.asarray(days, dtype=np.int32), type=pa.date32()), null_mask)


def decimals(
    units: np.ndarray, precision: int, scale: int, null_mask: np.ndarray | None = None
) -> pa.Array:
    """Integers in units of 10**-scale (e.g. cents) -> decimal128(precision, scale), exactly."""
    v = np.ascontiguousarray(units, dtype=np.int64)
    buf = np.empty(2 * len(v), dtype="<i8")
    buf[0::2] = v
    buf[1::2] = v >> 63  # sign extension of the 128-bit two's complement
    arr = pa.Array.from_buffers(pa.decimal128(precision, scale), len(v), [None, pa.py_buffer(buf)])
    return _mask(arr, null_mask)


def money(cents: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    return decimals(cents, 18, 2, null_mask)


def labels(
    values: Sequence[str], codes: np.ndarray, null_mask: np.ndarray | None = None
) -> pa.Array:
    """Pick strings by integer code (vectorised take)."""
    arr = pc.take(pa.array(list(values), type=pa.string()), pa.array(np.asarray(codes, np.int64)))
    return _mask(arr, null_mask)


def weekday(us: np.ndarray) -> np.ndarray:
    """Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (np.asarray(us) // 86_400_000_000 + 3) % 7


WEEKDAY_WEIGHT = np.array([1.0, 0.97, 0.98, 1.0, 1.08, 1.3, 1.25])


def weekday_keep(rng: np.random.Generator, us: np.ndarray) -> np.ndarray:
    """Thinning mask that gives weekly seasonality (weekend lift) to uniform times."""
    w = WEEKDAY_WEIGHT[weekday(us)]
    return rng.random(len(us)) < w / WEEKDAY_WEIGHT.max()


KEEP_RATE = float(WEEKDAY_WEIGHT.mean() / WEEKDAY_WEIGHT.max())


def uniform_us(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform integer microseconds in [lo, hi]."""
    lo = np.asarray(lo, dtype=np.int64)
    span = np.maximum(np.asarray(hi, dtype=np.int64) - lo, 0)
    return lo + (rng.random(len(lo)) * span).astype(np.int64)
