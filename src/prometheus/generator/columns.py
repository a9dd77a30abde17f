"""Vectorised numpy -> Arrow column helpers (ids, timestamps, dates, decimals, labels).

Arrays are built from their buffers (:func:`arrow`) rather than with ``pa.array``, which
imports pandas on first use (seconds when bytecode is not cached, in every process).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def arrow(values: np.ndarray, type: pa.DataType | None = None) -> pa.Array:
    """A numeric or boolean numpy array as an Arrow array without nulls (no copy unless bool
    or not contiguous); ``type`` reinterprets the values (e.g. int64 as timestamp[us])."""
    v = np.ascontiguousarray(values)
    if v.dtype == np.bool_:
        bits = np.packbits(v, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(v), [None, pa.py_buffer(bits)])
    t = pa.from_numpy_dtype(v.dtype) if type is None else type
    return pa.Array.from_buffers(t, len(v), [None, pa.py_buffer(v)])


def strings(values: Sequence[str]) -> pa.Array:
    """A list of Python strings as an Arrow string array."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(b) for b in encoded])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded number, e.g. ``u_0000042``."""
    nums = np.asarray(numbers, dtype=np.int64)
    head = np.frombuffer(prefix.encode("utf-8"), dtype=np.uint8)
    size = len(head) + width
    if len(nums) and (nums.min() < 0 or nums.max() >= 10**width or len(nums) * size >= 2**31):
        return _ids_generic(prefix, nums, width)
    # Fixed width: write the ASCII digits straight into the string data buffer, one digit
    # position at a time (rows of the transposed buffer are contiguous), in 32-bit
    # arithmetic where the numbers fit.
    n = len(nums)
    cols = np.empty((size, n), dtype=np.uint8)
    cols[: len(head)] = head[:, None]
    rest = nums.astype(np.uint32) if width <= 9 else nums.copy()
    for j in range(size - 1, len(head) - 1, -1):
        quotient = rest // 10
        cols[j] = rest - quotient * 10
        rest = quotient
    cols[len(head) :] += ord("0")
    data = np.ascontiguousarray(cols.T)
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _ids_generic(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(arrow(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _mask(arr: pa.Array, null_mask: np.ndarray | None) -> pa.Array:
    """``arr`` with nulls where ``null_mask`` is true."""
    if null_mask is None or not null_mask.any():
        return arr
    if arr.null_count or arr.offset:
        return pc.if_else(arrow(null_mask), pa.nulls(1, arr.type)[0], arr)
    valid = pa.py_buffer(np.packbits(~np.asarray(null_mask, dtype=bool), bitorder="little"))
    return pa.Array.from_buffers(
        arr.type, len(arr), [valid, *arr.buffers()[1:]], null_count=int(null_mask.sum())
    )


def with_nulls(arr: pa.Array, null_mask: np.ndarray | None) -> pa.Array:
    """``arr`` with nulls where ``null_mask`` is true."""
    return _mask(arr, null_mask)


def timestamps(us: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """Microseconds since the epoch -> timestamp[us] (no time zone)."""
    return _mask(arrow(np.asarray(us, dtype=np.int64), pa.timestamp("us")), null_mask)


def dates(days: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """Days since the epoch -> date32."""
    return _mask(arrow(np.asarray(days, dtype=np.int32), pa.date32()), null_mask)


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
    arr = pc.take(strings(list(values)), arrow(np.asarray(codes, np.int64)))
    return _mask(arr, null_mask)


def weekday(us: np.ndarray) -> np.ndarray:
    """Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (np.asarray(us) // 86_400_000_000 + 3) % 7


WEEKDAY_WEIGHT = np.array([1.0, 0.97, 0.98, 1.0, 1.08, 1.3, 1.25])


def weekday_keep(rng: np.random.Generator, us: np.ndarray) -> np.ndarray:
    """Thinning mask that gives weekly seasonality (weekend lift) to uniform times."""
    w = WEEKDAY_WEIGHT[weekday(us)]
    keep: np.ndarray = rng.random(len(us)) < w / WEEKDAY_WEIGHT.max()
    return keep


KEEP_RATE = float(WEEKDAY_WEIGHT.mean() / WEEKDAY_WEIGHT.max())


def uniform_us(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform integer microseconds in [lo, hi]."""
    lo = np.asarray(lo, dtype=np.int64)
    span = np.maximum(np.asarray(hi, dtype=np.int64) - lo, 0)
    out: np.ndarray = lo + (rng.random(len(lo)) * span).astype(np.int64)
    return out
