"""What the report shows besides the run history, read from the warehouse itself.

- failing-row samples: a failing test's stored failures (dbt's
  ``store_failures`` tables in schema ``dq_failures``), the first rows of
  the latest run of the test;
- metric series: for each ``dq_metric_anomaly`` test, every day of its
  training and detection window with the value and the expected band
  (baseline +- sensitivity x spread), computed by the test's own compiled
  SQL from its latest run, so the band drawn is the band that was judged.

Both describe the warehouse as the latest build left it, so only the
latest result of a test gets them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from prometheus.artifacts import Manifest, Node
from prometheus.observability.descriptions import anomaly_metric

log = logging.getLogger(__name__)

SAMPLE_ROWS = 5
ANOMALY_TEST = "dq_metric_anomaly"
DEFAULT_SENSITIVITY = 3.0
_PROBLEM = ("fail", "warn", "error")

# the tail of dq_metric_anomaly's compiled SQL: the anomalous days only
_ANOMALY_TAIL = re.compile(
    r"\)\s*select\s+(?:[\w\"]+\s*,\s*)*metric_date\s*,\s*metric_value\s*,.*?"
    r"from\s+graded\s+where\s+severity_level\s*>\s*0\s*;?\s*$",
    re.S | re.I,
)


@dataclass(frozen=True)
class Evidence:
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by test unique id
    metrics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _rows(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def failures_relation(test: Node) -> str | None:
    """`"schema"."table"` of a test's stored failures (the database part dropped:
    it is the warehouse file's name, which a copy of the file may not share)."""
    if not test.relation_name:
        return None
    parts = re.findall(r'"((?:[^"]|"")*)"|([^.]+)', test.relation_name)
    names = [quoted or bare for quoted, bare in parts]
    if len(names) < 2:
        return None
    return ".".join('"' + n.replace('"', '""') + '"' for n in names[-2:])


def sample_failures(
    conn: duckdb.DuckDBPyConnection, test: Node, limit: int = SAMPLE_ROWS
) -> list[dict[str, Any]] | None:
    relation = failures_relation(test)
    if relation is None:
        return None
    try:
        return _rows(conn.execute(f"select * from {relation} limit {int(limit)}"))
    except duckdb.Error as exc:
        log.warning("no failing-row sample for %s: %s", test.name, exc)
        return None


# "catalog"."schema"."table": the catalog is the name of the file dbt built, which
# the file read now (a copy, a publication) may not share
_THREE_PART = re.compile(r'"(?:[^"]|"")+"\.("(?:[^"]|"")+"\."(?:[^"]|"")+")')


def series_sql(compiled_code: str) -> str | None:
    """dq_metric_anomaly's compiled SQL, ending on every scored-or-training day."""
    compiled_code = _THREE_PART.sub(r"\1", compiled_code)
    match = _ANOMALY_TAIL.search(compiled_code)
    if match is None:
        return None
    head = compiled_code[: match.start() + 1]
    return (
        head
        + "\nselect * from trained where metric_value is not null and baseline is not null"
        + " order by metric_date"
    )


def metric_series(
    conn: duckdb.DuckDBPyConnection, test: Node, compiled_code: str
) -> list[dict[str, Any]] | None:
    """The test's metric per day with its band, shaped like Elementary's anomaly metrics."""
    sql = series_sql(compiled_code)
    if sql is None:
        log.warning("%s: compiled SQL not recognised, no metric chart", test.name)
        return None
    try:
        rows = _rows(conn.execute(sql))
    except duckdb.Error as exc:
        log.warning("no metric series for %s: %s", test.name, exc)
        return None
    kwargs = test.test_kwargs
    sensitivity = float(kwargs.get("sensitivity") or DEFAULT_SENSITIVITY)
    min_points = int(kwargs.get("min_training_points") or 14)
    keys = list(kwargs.get("group_by") or [])
    metric = anomaly_metric(test)
    out = []
    for row in rows:
        if (row.get("training_count") or 0) < min_points:
            continue
        value, baseline, spread = row["metric_value"], row["baseline"], row["spread"] or 0.0
        low, high = baseline - sensitivity * spread, baseline + sensitivity * spread
        day = str(row["metric_date"])[:10]
        dimension_value = ", ".join(str(row.get(k)) for k in keys) or None
        anomalous = not (low <= value <= high)
        out.append(
            {
                "value": value,
                "average": baseline,
                "min_value": low,
                "max_value": high,
                "start_time": f"{day}T00:00:00",
                "end_time": _next_day(day),
                "metric_name": metric,
                "metric_value": value,
                "min_metric_value": low,
                "max_metric_value": high,
                "training_avg": baseline,
                "training_stddev": spread,
                "training_set_size": row.get("training_count"),
                "anomaly_score": (value - baseline) / spread if spread else None,
                "anomaly_score_threshold": sensitivity,
                "is_anomalous": anomalous,
                "bucket_start": f"{day}T00:00:00",
                "bucket_end": _next_day(day),
                "dimension": ", ".join(keys) or None,
                "dimension_value": dimension_value,
                "column_name": test.column_name,
            }
        )
    if len({m["dimension_value"] for m in out}) <= 1:  # one series: no dimension to pick
        for m in out:
            m["dimension"] = m["dimension_value"] = None
    return out


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat() + "T00:00:00"


def is_anomaly_test(test: Node) -> bool:
    return test.test_short_name == ANOMALY_TEST


def read_evidence(
    conn: duckdb.DuckDBPyConnection, manifest: Manifest, latest: dict[str, dict[str, Any]]
) -> Evidence:
    """Samples and series for the latest run of each test that ran (``latest``, by id:
    its latest stored result that was not skipped)."""
    evidence = Evidence()
    for uid, row in latest.items():
        test = manifest.nodes.get(uid)
        if test is None or test.resource_type != "test":
            continue
        if row["status"] in _PROBLEM:
            sample = sample_failures(conn, test)
            if sample:
                evidence.samples[uid] = sample
        if is_anomaly_test(test) and row.get("compiled_code"):
            series = metric_series(conn, test, row["compiled_code"])
            if series:
                evidence.metrics[uid] = series
    return evidence
