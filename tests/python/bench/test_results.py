"""Benchmark arithmetic and output: ratios, targets, the printed tables."""

from __future__ import annotations

import pytest

from prometheus.bench import results
from prometheus.bench.results import Step


def step(name: str, wall: float, rss: float = 100.0, rc: int = 0) -> Step:
    return Step(name=name, wall_s=wall, max_rss_mb=rss, returncode=rc)


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [(2.0, 1.0, 2.0), (1.0, 4.0, 0.25), (None, 1.0, None), (1.0, None, None), (1.0, 0.0, None)],
)
def test_ratio(num, den, expected) -> None:
    assert results.ratio(num, den) == expected


def test_ratios_from_wall_times() -> None:
    steps = [step(results.BUILD, 130.0), step(results.FLOOR, 100.0), step(results.INCREMENTAL, 5.2)]
    r = results.ratios(steps)
    assert r["build_over_floor"] == pytest.approx(1.3)
    assert r["incremental_over_build"] == pytest.approx(0.04)
    assert results.ratios([step(results.BUILD, 1.0)]) == {
        "build_over_floor": None,
        "incremental_over_build": None,
    }


@pytest.mark.parametrize(
    ("build", "floor", "incremental", "rss_mb", "gen", "met"),
    [
        (130.0, 100.0, 6.5, 6000.0, 179.0, [True, True, True, True]),
        (131.0, 100.0, 6.6, 6144.1, 181.0, [False, False, False, False]),
    ],
)
def test_targets_at_their_bounds(build, floor, incremental, rss_mb, gen, met) -> None:
    steps = [
        step(results.GENERATE, gen),
        step(results.BUILD, build, rss=rss_mb),
        step(results.FLOOR, floor),
        step(results.INCREMENTAL, incremental),
    ]
    assert [t.met for t in results.targets(steps, 10)] == met


def test_targets_not_measured_and_labelled_off_scale() -> None:
    items = results.targets([step(results.BUILD, 10.0)], 0.1)
    assert [t.met for t in items] == [None, None, True, None]
    assert all("stated for scale 10; here 0.1" in t.name for t in items)


def test_format_table_aligns_columns() -> None:
    text = results.format_table([["a", "1.0"], ["long name", "10.5"]], ["step", "wall s"])
    assert text.splitlines() == [
        "step       wall s",
        "---------  ------",
        "a             1.0",
        "long name    10.5",
    ]


def test_steps_table_shows_ratios_and_failures() -> None:
    steps = [
        step(results.BUILD, 120.0),
        step(results.FLOOR, 100.0),
        step(results.INCREMENTAL, 3.0, rc=1),
    ]
    lines = results.steps_table(steps).splitlines()
    assert "1.20x floor" in lines[2]
    assert "2.5% of build" in lines[4] and "exit 1" in lines[4]


def test_steps_table_shows_the_jvm_and_python_apart_when_a_step_ran_spark() -> None:
    duckdb_only = results.steps_table([step(results.BUILD, 1.0)]).splitlines()
    assert "JVM MB" not in duckdb_only[0]
    spark = [
        Step(results.REGISTER, 10.0, 900.0, 0, jvm_mb=900.0, python_mb=210.0),
        Step(results.NOTIFY, 2.0, 140.0, 0, python_mb=140.0),
    ]
    header, _, register, notify = results.steps_table(spark).splitlines()
    assert header.split()[:11] == [
        "step",
        "wall",
        "s",
        "cpu",
        "s",
        "peak",
        "MB",
        "JVM",
        "MB",
        "Python",
        "MB",
    ]
    assert register.split() == [
        "register",
        "raw",
        "sources",
        "10.0",
        "0.0",
        "900",
        "900",
        "210",
        "ok",
    ]
    assert notify.split() == ["notify", "(dry", "run)", "2.0", "0.0", "140", "-", "140", "ok"]


def test_record_is_plain_json_data() -> None:
    import json

    record = results.to_record([step(results.BUILD, 1.0)], 1.0, {"git_commit": "abc"})
    again = json.loads(json.dumps(record))
    assert again["scale"] == 1.0 and again["git_commit"] == "abc"
    assert again["steps"][0]["name"] == results.BUILD
    assert len(again["targets"]) == 4


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        (
            "\x1b[0m10:10:16  Running with dbt=1.11.16\n10:10:17  Registered adapter\n"
            "10:10:35  Found 35 models, 4 snapshots\n10:11:00  1 of 2 START",
            19.0,
        ),
        ("23:59:58  Running with dbt=1.11\n00:00:03  Found 3 models", 5.0),  # midnight
        ("generator output\nno dbt here", None),
    ],
)
def test_dbt_parse_seconds(log: str, expected: float | None) -> None:
    assert results.dbt_parse_seconds(log) == expected
