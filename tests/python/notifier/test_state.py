"""The sent-log: suppression window, atomic writes, bad files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from prometheus.notifier.state import SentLog, StateError

T0 = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("later", "hours", "suppressed"),
    [
        (timedelta(0), 24, True),
        (timedelta(hours=23, minutes=59), 24, True),
        (timedelta(hours=24), 24, False),
        (timedelta(hours=2), 1, False),
        (timedelta(hours=-1), 24, True),  # a replay with an earlier --at
        (timedelta(minutes=1), 0, False),  # interval 0: never suppress
    ],
)
def test_suppression_window(tmp_path, later, hours, suppressed):
    log = SentLog(tmp_path / "state.json")
    log.record("team:k", "slack:team", T0)
    log.save(T0)
    reloaded = SentLog.load(tmp_path / "state.json")
    assert reloaded.suppressed("team:k", "slack:team", T0 + later, hours) is suppressed
    assert reloaded.suppressed("team:k", "email:team", T0 + later, hours) is False
    assert reloaded.suppressed("team:other", "slack:team", T0 + later, hours) is False


def test_save_is_atomic_and_prunes_old_entries(tmp_path):
    path = tmp_path / "deep" / "state.json"
    log = SentLog(path)
    log.record("old:k", "jsonl:old", T0 - timedelta(days=40))
    log.record("new:k", "jsonl:new", T0)
    log.save(T0)
    data = json.loads(path.read_text())
    assert data["version"] == 1 and list(data["sent"]) == ["new:k@jsonl:new"]
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temp file left


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "state file unreadable"), ('{"version": 7, "sent": {}}', "not a notifier"),
     ('{"version": 1}', "'sent' is missing")],
)  # fmt: skip
def test_bad_state_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(StateError, match=message):
        SentLog.load(path)
