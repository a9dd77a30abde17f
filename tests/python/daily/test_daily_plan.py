"""The daily run's pure logic: which sources got new data, which build follows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prometheus.daily.plan import (
    FRESHER,
    StateError,
    fresher_sources,
    plan_build,
    read_max_loaded_at,
    window_starts,
)

EVENTS, ORDERS = "source.prometheus.events.events", "source.prometheus.app.orders"


def sources_json(path: Path, results: list[dict]) -> Path:
    path.write_text(json.dumps({"metadata": {}, "results": results}))
    return path


def test_read_keeps_sources_with_a_max_loaded_at(tmp_path: Path) -> None:
    path = sources_json(
        tmp_path / "sources.json",
        [
            {"unique_id": EVENTS, "max_loaded_at": "2025-12-31T01:00:00+00:00"},
            {"unique_id": ORDERS, "status": "runtime error"},  # the query failed
        ],
    )
    assert read_max_loaded_at(path) == {EVENTS: "2025-12-31T01:00:00+00:00"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not readable JSON"),
        ('{"results": 3}', "no 'results' list"),
        ('{"results": [{"status": "pass"}]}', "without a unique_id"),
    ],
)
def test_read_names_the_file_and_the_problem(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "sources.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(StateError) as error:
        read_max_loaded_at(path)
    assert str(path) in str(error.value) and message in str(error.value)


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        ({EVENTS: "2025-12-30T01:00:00"}, {EVENTS: "2025-12-31T01:00:00"}, [EVENTS]),
        ({EVENTS: "2025-12-31T01:00:00"}, {EVENTS: "2025-12-31T01:00:00"}, []),
        ({EVENTS: "2025-12-31T01:00:00"}, {EVENTS: "2025-12-30T01:00:00"}, []),
        ({}, {ORDERS: "2025-12-31T01:00:00"}, [ORDERS]),  # a new source
        ({ORDERS: "2025-12-31T01:00:00"}, {}, []),  # today's query failed: not fresher
    ],
)
def test_fresher_sources(previous, current, expected) -> None:
    assert fresher_sources(previous, current) == expected


def test_plan_builds_what_is_fresher_with_its_downstream(tmp_path: Path) -> None:
    plan = plan_build(tmp_path, has_state=True, fresher=[EVENTS], full=False)
    assert plan is not None
    assert plan.build_args == ["build", "--select", FRESHER, "--state", str(tmp_path)]
    assert "prometheus.events.events" in plan.reason


def test_plan_without_state_or_with_full_is_a_full_build(tmp_path: Path) -> None:
    for plan in (
        plan_build(tmp_path, has_state=False, fresher=None, full=False),
        plan_build(tmp_path, has_state=True, fresher=[], full=True),
    ):
        assert plan is not None and plan.build_args == ["build"]


def test_plan_with_nothing_new_builds_nothing(tmp_path: Path) -> None:
    assert plan_build(tmp_path, has_state=True, fresher=[], full=False) is None


def test_window_starts_per_source_minus_the_lookback_in_utc() -> None:
    previous = {
        EVENTS: "2025-12-31T04:29:36.751565+00:00",
        ORDERS: "2025-12-31T01:00:00+01:00",  # another zone: converted to UTC
        "source.prometheus.app.users": "not a time",  # no window: every row tested
    }
    assert window_starts(previous, lookback_days=3) == {
        "events.events": "2025-12-28 04:29:36",
        "app.orders": "2025-12-28 00:00:00",
    }
    assert window_starts(previous, lookback_days=0)["events.events"] == "2025-12-31 04:29:36"
