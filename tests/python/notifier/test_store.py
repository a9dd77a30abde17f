"""The incident store on its own: the lifecycle rules, append-only, bad files."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prometheus.notifier import incidents
from prometheus.notifier.incidents import Observation, StateError, Store
from prometheus.notifier.problems import Problem

T0 = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)
TEST = "test.prometheus.not_null_stg_app__orders_user_id.6e1f"
PROBLEM = Problem(TEST, "not_null_stg_app__orders_user_id", "test", "fail", "x.yml", failures=2)


def obs(status: str = "fail", rows: int = 2, teams=("finance_risk",), action=None) -> Observation:
    return Observation(
        key=f"unit_level_profit|{TEST}", pipeline="unit_level_profit",
        problem=replace(PROBLEM, status=status, failures=rows),
        action=action or ("page" if status == "fail" else "channel"), teams=teams,
        renotify_hours=24,
    )  # fmt: skip


def step(store: Store, observations, at: datetime, run: str, passed=()):
    with store.transaction() as con:
        changes = store.reconcile(con, observations, passed, at, run)
    return [(c.kind, c.incident_id) for c in changes]


def test_lifecycle_rules(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    h = timedelta(hours=1)
    assert step(store, [obs()], T0, "r1") == [("opened", 1)]
    assert step(store, [obs()], T0 + h, "r2") == [("updated", 1)]
    assert step(store, [obs()], T0 + h, "r2") == [("updated", 1)]  # same run: nothing new
    assert step(store, [obs(rows=1)], T0 + 2 * h, "r3") == [("updated", 1)]  # better
    assert step(store, [obs(rows=5)], T0 + 3 * h, "r4") == [("worsened", 1)]
    assert step(store, [obs(rows=5, teams=("finance_risk", "data_engineering"))],
                T0 + 4 * h, "r5") == [("worsened", 1)]  # fmt: skip
    assert step(store, [obs("warn", 5)], T0 + 5 * h, "r6") == [("eased", 1)]
    assert step(store, [obs("fail", 5)], T0 + 6 * h, "r7") == [("worsened", 1)]  # warn -> fail
    # past the re-notify interval since it was last sent
    assert step(store, [obs("fail", 5)], T0 + 31 * h, "r8") == [("reminder", 1)]
    assert step(store, [obs("fail", 5)], T0 + 32 * h, "r9") == [("updated", 1)]
    # not run this time (a partial build): stays open
    assert step(store, [], T0 + 33 * h, "r10") == []
    with store.transaction() as con:
        (resolved,) = store.reconcile(con, [], [TEST], T0 + 34 * h, "r11")
    assert (resolved.kind, resolved.incident_id, resolved.rows) == ("resolved", 1, 0)
    assert resolved.action == "page"  # it paged once: PagerDuty's alert gets resolved
    assert step(store, [], T0 + 35 * h, "r12", passed=[TEST]) == []  # resolved once
    assert step(store, [obs()], T0 + 36 * h, "r13") == [("opened", 2)]  # a new incident
    kinds = [e["kind"] for e in store.history()]
    assert kinds.count("updated") == 3 and kinds[-1] == "opened"  # r2, r3, r9


def test_store_is_append_only():
    source = Path(incidents.__file__).read_text()
    assert not re.search(r"\b(update|delete)\s+(from\s+)?\w+\s+(set|where)\b", source, re.I)
    assert "insert or replace" not in source.lower()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a database at all" * 50, "not a notifier incident store"), (b"", None)],
)
def test_bad_store_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "s.sqlite"
    path.write_bytes(content)
    if message is None:  # an empty file is a new store
        assert Store(path).history() == []
        return
    with pytest.raises(StateError, match=message):
        Store(path)


def test_an_eased_incident_still_resolves_where_it_paged(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    h = timedelta(hours=1)
    assert step(store, [obs()], T0, "r1") == [("opened", 1)]
    assert step(store, [obs("warn", 2)], T0 + h, "r2") == [("eased", 1)]
    with store.transaction() as con:
        (resolved,) = store.reconcile(con, [], [TEST], T0 + 2 * h, "r3")
    assert (resolved.kind, resolved.action) == ("resolved", "page")
    # a warning that never paged resolves in the channel only
    assert step(store, [obs("warn", 1)], T0 + 3 * h, "r4") == [("opened", 2)]
    with store.transaction() as con:
        (quiet,) = store.reconcile(con, [], [TEST], T0 + 4 * h, "r5")
    assert (quiet.kind, quiet.action) == ("resolved", "channel")
