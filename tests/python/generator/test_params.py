from __future__ import annotations

import datetime as dt

import pytest

from prometheus.generator.params import ParamError, Params, default_dates, make_params

TODAY = dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": "0"}, "scale must be > 0"),
        ({"scale": "-1"}, "scale must be > 0"),
        ({"scale": "abc"}, "scale 'abc' is not a number"),
        ({"scale": "nan"}, "finite"),
        ({"seed": "x"}, "seed 'x' is not an integer"),
        ({"start": "2024-13-01"}, "start date '2024-13-01' is not a date"),
        ({"end": "yesterday"}, "end date 'yesterday' is not a date"),
        ({"start": "2024-02-01", "end": "2024-01-31"}, "end date 2024-01-31 is before start date"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"scale": "1", "seed": "7", "start": None, "end": None} | kwargs
    with pytest.raises(ParamError, match=message):
        make_params(args["scale"], args["seed"], args["start"], args["end"], TODAY)


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (dt.date(2026, 3, 15), dt.date(2024, 3, 15), dt.date(2026, 3, 14)),
        (dt.date(2026, 1, 1), dt.date(2024, 1, 1), dt.date(2025, 12, 31)),
        (dt.date(2026, 3, 1), dt.date(2024, 2, 29), dt.date(2026, 2, 28)),
        (dt.date(2024, 3, 1), dt.date(2022, 3, 1), dt.date(2024, 2, 29)),
    ],
)
def test_default_dates(today, start, end):
    assert default_dates(today) == (start, end)
    p = make_params("1", "7", None, None, today)
    assert (p.start, p.end) == (start, end)


def test_default_start_follows_given_end():
    p = make_params("0.5", "3", None, "2025-06-30", TODAY)
    assert (p.start, p.end, p.scale, p.seed) == (dt.date(2023, 7, 1), dt.date(2025, 6, 30), 0.5, 3)


def test_derived_times():
    p = Params(1, 7, dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    assert p.n_days == 31
    assert p.extraction_time == dt.datetime(2024, 2, 1, 6, 0)
    assert p.end_us - p.start_us == (31 * 86400 - 1) * 1_000_000


def test_rng_is_keyed_by_seed_name_and_chunk():
    p = Params(1, 7, dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    q = Params(1, 8, dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    draw = lambda g: g.integers(0, 2**62, 4).tolist()  # noqa: E731
    assert draw(p.rng("a", 0)) == draw(p.rng("a", 0))
    assert draw(p.rng("a", 0)) != draw(p.rng("a", 1))
    assert draw(p.rng("a", 0)) != draw(p.rng("b", 0))
    assert draw(p.rng("a", 0)) != draw(q.rng("a", 0))
