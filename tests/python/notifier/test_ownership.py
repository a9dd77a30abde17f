"""The on-call configuration read from the real manifest, and what validation catches."""

from __future__ import annotations

import json
from datetime import date

import pytest

from prometheus import artifacts
from prometheus.notifier import ownership


def test_project_configuration_is_complete(fixtures):
    config, issues = ownership.collect(fixtures.run().manifest)
    assert issues == []
    assert set(config.teams) == {"finance_risk", "business_analytics", "data_engineering"}
    by_name = {p.name: p for p in config.pipelines}
    assert set(by_name) == {"unit_level_profit", "aggregate_profit", "aggregate_growth",
                            "daily_growth", "aggregate_engagement"}  # fmt: skip
    for pipeline in by_name.values():
        assert pipeline.secondary_owner == "data_engineering" and pipeline.common_issues
    assert by_name["unit_level_profit"].owner == "finance_risk"
    schedules = {n: sorted(w.schedule for w in p.watchers) for n, p in by_name.items()}
    assert schedules["unit_level_profit"] == ["always", "weekly_rotation"]
    assert schedules["aggregate_growth"] == ["last_week_of_month"]
    de = config.teams["data_engineering"]
    assert de.rotation is not None and de.rotation.anchor_date == date(2026, 1, 5)
    assert de.last_week_of_month_days == 7 and de.alert_suppression_interval == 24


def meta(data, kind, name):
    key = f"{kind}.prometheus.{name}"
    section = "groups" if kind == "group" else "exposures"
    return data[section][key]["config"]["meta"]


@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        (lambda d: meta(d, "group", "data_engineering")["rotation"]["overrides"].append(
            {"start": "2026-02-02", "end": "2026-02-09", "member": "fr-bi-amara"}),
         "rotation.overrides[0].member", "'fr-bi-amara' is not a member of team data_engineering"),
        (lambda d: meta(d, "group", "data_engineering")["rotation"]["overrides"].append(
            {"start": "2026-02-02", "end": "2026-02-09", "member": "de-tom", "replaces": "x"}),
         "rotation.overrides[0].replaces", "'x' is not in the rotation"),
        (lambda d: meta(d, "group", "data_engineering")["rotation"]["overrides"].append(
            {"start": "2026-02-09", "end": "2026-02-02", "member": "de-tom"}),
         "rotation.overrides[0]", "end must be after start"),
        (lambda d: meta(d, "exposure", "unit_level_profit_experiments")["watchers"][0].update(
            role="cfo"), "watchers[0].role", "team finance_risk has no member with role 'cfo'"),
        (lambda d: meta(d, "exposure", "daily_growth_experiments")["watchers"][0].update(
            schedule="weekly_rotation"), "watchers[0].schedule",
         "team business_analytics has no rotation"),
        (lambda d: meta(d, "group", "finance_risk")["members"][0].update(email="nope"),
         "members[0].email", "String should match pattern"),
        (lambda d: meta(d, "group", "finance_risk")["members"][0].update(pager="x"),
         "members[0].pager", "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_validation_names_file_and_key(fixtures, tmp_path, edit, key, message):
    data = json.loads((fixtures.target / "manifest.json").read_text())
    edit(data)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    _, issues = ownership.collect(artifacts.read_manifest(path))
    assert issues, "expected a validation error"
    texts = [str(i) for i in issues]
    assert any(key in t and message in t and t.startswith("models/") for t in texts), texts
    with pytest.raises(ownership.ConfigError):
        ownership.load(artifacts.read_manifest(path))
