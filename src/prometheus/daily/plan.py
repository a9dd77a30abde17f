"""Pure logic of the daily run: which sources got new data, which dbt calls follow.

A daily run compares dbt's source freshness results (``sources.json``) of
today with the ones stored after the last successful run. A source whose
``max_loaded_at`` moved forward got new data; dbt's own selector
``source_status:fresher+`` then builds it and everything downstream, and
nothing else (an unchanged profit chain is not rebuilt because the
clickstream got a day file). Without a stored state the run is a full
build.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from prometheus.errors import PrometheusError

FRESHER = "source_status:fresher+"


class StateError(PrometheusError, ValueError):
    """A sources.json that cannot be read; the message names the file."""


def read_max_loaded_at(path: Path) -> dict[str, str]:
    """``{source unique_id: max_loaded_at}`` of one ``sources.json`` (errors skipped)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise StateError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(f"{path}: not readable JSON ({exc})") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise StateError(f"{path}: no 'results' list (not dbt's sources.json?)")
    out: dict[str, str] = {}
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("unique_id"), str):
            raise StateError(f"{path}: a result without a unique_id")
        loaded = result.get("max_loaded_at")
        if isinstance(loaded, str) and loaded:
            out[result["unique_id"]] = loaded
    return out


def fresher_sources(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Sources with data loaded after the previous run (new sources included).

    The same rule as dbt's ``source_status:fresher`` selector; a source whose
    freshness query failed today is not in ``current`` and is not fresher.
    ISO timestamps of one dbt version compare as strings.
    """
    return sorted(uid for uid, at in current.items() if uid not in previous or at > previous[uid])


def window_starts(previous: dict[str, str], lookback_days: int) -> dict[str, str]:
    """Where a daily run's tests on event-scale tables start, per source.

    The dbt var ``daily_window_start`` (read by the macro ``daily_window``):
    ``{"<source>.<table>": previous max_loaded_at - lookback_days}`` as a naive
    UTC ``YYYY-MM-DD HH:MM:SS`` (rows may land in the lake later than they
    were loaded: the incremental models reprocess the same lookback). It
    depends on the stored state only, so it is known before dbt parses.
    """
    starts: dict[str, str] = {}
    for uid, loaded in sorted(previous.items()):
        try:
            at = dt.datetime.fromisoformat(loaded)
        except ValueError:
            continue  # not a timestamp: no window, that source's tests read every row
        if at.tzinfo is not None:
            at = at.astimezone(dt.UTC).replace(tzinfo=None)
        key = ".".join(uid.split(".")[-2:])
        starts[key] = (at - dt.timedelta(days=lookback_days)).strftime("%Y-%m-%d %H:%M:%S")
    return starts


@dataclass(frozen=True)
class Plan:
    """The dbt build of a daily run: its arguments and why."""

    build_args: list[str]
    reason: str


def plan_build(
    state_dir: Path, has_state: bool, fresher: list[str] | None, full: bool
) -> Plan | None:
    """The build to run, or None when no source got new data (nothing to do)."""
    if full:
        return Plan(["build"], "full build (--full)")
    if not has_state:
        return Plan(["build"], f"full build (no earlier state in {state_dir})")
    if not fresher:
        return None
    names = ", ".join(uid.removeprefix("source.") for uid in fresher)
    return Plan(
        ["build", "--select", FRESHER, "--state", str(state_dir)],
        f"new data in {names}: building them and everything downstream",
    )
