"""Who is on call: week boundaries, month ends, time zones, DST, overrides."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from prometheus.notifier import schedules
from prometheus.notifier.ownership import (
    CommonIssue,
    Member,
    Override,
    Pipeline,
    Rotation,
    Team,
    Watcher,
)

LON = ZoneInfo("Europe/London")
NYC = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
UTC = ZoneInfo("UTC")

DE_IDS = ["de-priya", "de-tom", "de-kenji", "de-zoe"]


def rotation(**changes: object) -> Rotation:
    fields: dict[str, object] = {
        "members": DE_IDS,
        "anchor_date": date(2026, 1, 5),
        "handoff_weekday": "monday",
        "handoff_time": time(9, 0),
        "timezone": "Europe/London",
    }
    fields.update(changes)
    return Rotation.model_validate(fields)


def member(member_id: str, role: str) -> Member:
    name = member_id.split("-")[-1].title()
    return Member(id=member_id, name=name, email=f"{name.lower()}@x.example", role=role)


def team(
    name: str, role: str, ids: list[str], rot: Rotation | None = None, tz: str = "Europe/London"
) -> Team:
    return Team(
        name=name,
        display_name=name,
        owner_name=name,
        owner_email=f"{name}@x.example",
        channel=f"#{name}",
        email=f"{name}@x.example",
        timezone=tz,
        members=tuple(member(i, role) for i in ids),
        rotation=rot,
        subscribers=(),
        last_week_of_month_days=7,
        alert_suppression_interval=24,
        original_file_path="models/_groups.yml",
    )


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # before the first handoff: the shift before the anchor (last in the list)
        (datetime(2026, 1, 5, 8, 59, tzinfo=LON), "de-zoe"),
        (datetime(2026, 1, 5, 9, 0, tzinfo=LON), "de-priya"),
        # across the week boundary (Sunday night, Monday morning before handoff)
        (datetime(2026, 1, 11, 23, 59, tzinfo=LON), "de-priya"),
        (datetime(2026, 1, 12, 8, 59, 59, tzinfo=LON), "de-priya"),
        (datetime(2026, 1, 12, 9, 0, tzinfo=LON), "de-tom"),
        (datetime(2026, 1, 19, 9, 0, tzinfo=LON), "de-kenji"),
        (datetime(2026, 1, 26, 9, 0, tzinfo=LON), "de-zoe"),
        (datetime(2026, 2, 2, 9, 0, tzinfo=LON), "de-priya"),  # wraps around
        # long before the anchor, going backwards through the list
        (datetime(2025, 12, 22, 9, 0, tzinfo=LON), "de-kenji"),
        # the same instant given in other zones
        (datetime(2026, 1, 12, 18, 0, tzinfo=TOKYO), "de-tom"),  # 09:00 London
        (datetime(2026, 1, 12, 17, 59, tzinfo=TOKYO), "de-priya"),
        # DST starts 2026-03-29: Monday 30 March 09:00 BST is 08:00 UTC
        (datetime(2026, 3, 30, 7, 59, tzinfo=UTC), "de-zoe"),
        (datetime(2026, 3, 30, 8, 0, tzinfo=UTC), "de-priya"),
        (datetime(2026, 3, 30, 8, 30, tzinfo=UTC), "de-priya"),
        # DST ends 2026-10-25: Monday 26 October 09:00 GMT is 09:00 UTC
        (datetime(2026, 10, 26, 8, 30, tzinfo=UTC), "de-tom"),
        (datetime(2026, 10, 26, 9, 0, tzinfo=UTC), "de-kenji"),
    ],
)
def test_weekly_rotation(at: datetime, expected: str) -> None:
    assert schedules.scheduled_member(rotation(), at) == expected


@pytest.mark.parametrize(
    ("at", "hours"),
    [
        (datetime(2026, 1, 14, tzinfo=LON), 168),
        (datetime(2026, 3, 25, tzinfo=LON), 167),  # spring forward inside the shift
        (datetime(2026, 10, 21, tzinfo=LON), 169),  # fall back inside the shift
    ],
)
def test_shift_length_follows_wall_clock(at: datetime, hours: int) -> None:
    start, end = schedules.shift_bounds(rotation(), at)
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(LON).time() == time(9, 0)
    assert end.astimezone(LON).time() == time(9, 0)
    assert start <= at < end


def test_other_weekday_and_zone() -> None:
    rot = rotation(
        anchor_date=date(2026, 1, 2),
        handoff_weekday="friday",
        handoff_time=time(17, 0),
        timezone="America/New_York",
    )
    # Friday 2 Jan 17:00 New York = Saturday 3 Jan 07:00 Tokyo
    assert schedules.scheduled_member(rot, datetime(2026, 1, 3, 6, 59, tzinfo=TOKYO)) == "de-zoe"
    assert schedules.scheduled_member(rot, datetime(2026, 1, 3, 7, 0, tzinfo=TOKYO)) == "de-priya"
    # DST starts in New York on 2026-03-08; Friday 13 March 17:00 EDT is 21:00 UTC
    assert schedules.scheduled_member(rot, datetime(2026, 3, 13, 20, 59, tzinfo=UTC)) == "de-tom"
    assert schedules.scheduled_member(rot, datetime(2026, 3, 13, 21, 0, tzinfo=UTC)) == "de-kenji"


def test_naive_instant_is_rejected() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        schedules.scheduled_member(rotation(), datetime(2026, 1, 5, 9, 0))


@pytest.mark.parametrize(
    ("at", "tz", "expected"),
    [
        # 31-day month: 25-31 January
        (datetime(2026, 1, 24, 23, 59, tzinfo=LON), LON, False),
        (datetime(2026, 1, 25, 0, 0, tzinfo=LON), LON, True),
        (datetime(2026, 1, 31, 23, 59, tzinfo=LON), LON, True),
        (datetime(2026, 2, 1, 0, 0, tzinfo=LON), LON, False),
        # 30-day month: 24-30 April
        (datetime(2026, 4, 23, 23, 59, tzinfo=LON), LON, False),
        (datetime(2026, 4, 24, 0, 0, tzinfo=LON), LON, True),
        (datetime(2026, 4, 30, 12, 0, tzinfo=LON), LON, True),
        # 28-day February: 22-28
        (datetime(2027, 2, 21, 23, 59, tzinfo=LON), LON, False),
        (datetime(2027, 2, 22, 0, 0, tzinfo=LON), LON, True),
        (datetime(2027, 2, 28, 23, 59, tzinfo=LON), LON, True),
        # leap February 2028: 23-29
        (datetime(2028, 2, 22, 23, 59, tzinfo=LON), LON, False),
        (datetime(2028, 2, 23, 0, 0, tzinfo=LON), LON, True),
        (datetime(2028, 2, 29, 23, 59, tzinfo=LON), LON, True),
        (datetime(2028, 3, 1, 0, 0, tzinfo=LON), LON, False),
        # the team's time zone decides: 31 Jan 23:30 in New York is 1 Feb in London
        (datetime(2026, 1, 31, 23, 30, tzinfo=NYC), NYC, True),
        (datetime(2026, 1, 31, 23, 30, tzinfo=NYC), LON, False),
        # 21 Feb 23:30 in New York is 22 Feb in London (2026: 28-day February)
        (datetime(2026, 2, 21, 23, 30, tzinfo=NYC), NYC, False),
        (datetime(2026, 2, 21, 23, 30, tzinfo=NYC), LON, True),
        # the window starts at local midnight on a DST day (29 March 2026, London)
        (datetime(2026, 3, 24, 23, 59, tzinfo=LON), LON, False),
        (datetime(2026, 3, 25, 0, 0, tzinfo=LON), LON, True),
    ],
)
def test_last_week_of_month(at: datetime, tz: ZoneInfo, expected: bool) -> None:
    assert schedules.in_last_week_of_month(at, tz) is expected
    start, end = schedules.last_week_of_month_bounds(at, tz)
    assert (start <= at < end) is expected


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [(2026, 1, 7), (2027, 2, 7), (2028, 2, 7), (2026, 4, 7), (2026, 3, 3)],
)
def test_last_week_window_is_n_local_days(year: int, month: int, days: int) -> None:
    start, end = schedules.last_week_of_month_bounds(
        datetime(year, month, 15, tzinfo=LON), LON, days
    )
    assert start.astimezone(LON).time() == time(0) == end.astimezone(LON).time()
    assert (end.astimezone(LON).date() - start.astimezone(LON).date()).days == days
    assert end.astimezone(LON).day == 1


HOLIDAY = Override(
    start=datetime(2026, 12, 14, 9, 0),
    end=datetime(2026, 12, 21, 9, 0),
    member="de-zoe",
    replaces="de-tom",
    reason="holiday",
)
PRIYAS_SLOT = Override(
    start=date(2026, 12, 14),
    end=date(2026, 12, 21),
    member="de-kenji",
    replaces="de-priya",
    reason="priya's slot only",
)
CHRISTMAS = Override(
    start=date(2026, 12, 24), end=date(2026, 12, 27), member="de-priya", reason="covers Christmas"
)
UTC_SWAP = Override(
    start=datetime(2027, 1, 4, 12, 0, tzinfo=UTC),
    end=datetime(2027, 1, 4, 13, 0, tzinfo=UTC),
    member="de-tom",
)


@pytest.mark.parametrize(
    ("at", "member", "scheduled", "reason"),
    [
        (datetime(2026, 12, 13, 23, 59, tzinfo=LON), "de-priya", "de-priya", None),
        # replaces=de-priya: applies only while Priya is scheduled (until the 09:00 handoff)
        (datetime(2026, 12, 14, 8, 59, tzinfo=LON), "de-kenji", "de-priya", "priya's slot only"),
        (datetime(2026, 12, 14, 9, 0, tzinfo=LON), "de-zoe", "de-tom", "holiday"),
        (datetime(2026, 12, 20, 23, 0, tzinfo=LON), "de-zoe", "de-tom", "holiday"),
        (datetime(2026, 12, 21, 9, 0, tzinfo=LON), "de-kenji", "de-kenji", None),
        (datetime(2026, 12, 23, 23, 59, tzinfo=LON), "de-kenji", "de-kenji", None),
        (datetime(2026, 12, 24, 0, 0, tzinfo=LON), "de-priya", "de-kenji", "covers Christmas"),
        (datetime(2026, 12, 26, 23, 59, tzinfo=LON), "de-priya", "de-kenji", "covers Christmas"),
        (datetime(2026, 12, 27, 0, 0, tzinfo=LON), "de-kenji", "de-kenji", None),
        (datetime(2027, 1, 4, 12, 30, tzinfo=LON), "de-tom", "de-priya", ""),
        (datetime(2027, 1, 4, 13, 0, tzinfo=LON), "de-priya", "de-priya", None),
    ],
)
def test_overrides(at: datetime, member: str, scheduled: str, reason: str | None) -> None:
    rot = rotation(overrides=[HOLIDAY, PRIYAS_SLOT, CHRISTMAS, UTC_SWAP])
    slot = schedules.rotation_on_call(rot, at)
    assert (slot.member, slot.scheduled) == (member, scheduled)
    assert (slot.override.reason if slot.override else None) == reason


def teams_and_pipelines() -> tuple[dict[str, Team], Pipeline, Pipeline]:
    de = team("data_engineering", "data_engineer", DE_IDS, rotation(overrides=[HOLIDAY]))
    fr = team("finance_risk", "bi", ["fr-amara", "fr-lucas"])
    issue = CommonIssue(issue="x", steps=["y"])

    def pipeline(name: str, owner: str, watchers: list[Watcher]) -> Pipeline:
        return Pipeline(
            name=name,
            exposure_id=f"exposure.p.{name}",
            exposure_name=name,
            label=name,
            audience=None,
            owner=owner,
            secondary_owner="data_engineering",
            watchers=tuple(watchers),
            common_issues=(issue,),
            subscribers=(),
            channel=None,
            alert_suppression_interval=None,
            depends_on=(),
            original_file_path="models/x.yml",
        )

    unit = pipeline(
        "unit_level_profit",
        "finance_risk",
        [
            Watcher(team="finance_risk", role="bi", schedule="always"),
            Watcher(team="data_engineering", role="data_engineer", schedule="weekly_rotation"),
        ],
    )
    investors = pipeline(
        "aggregate_profit",
        "business_analytics",
        [
            Watcher(team="data_engineering", role="data_engineer", schedule="last_week_of_month"),
        ],
    )
    return {"data_engineering": de, "finance_risk": fr}, unit, investors


@pytest.mark.parametrize(
    ("at", "unit_people", "investor_active"),
    [
        (datetime(2026, 12, 1, 12, 0, tzinfo=LON), ["fr-amara", "fr-lucas", "de-zoe"], False),
        (datetime(2026, 12, 15, 12, 0, tzinfo=LON), ["fr-amara", "fr-lucas", "de-zoe"], False),
        (datetime(2026, 12, 25, 0, 0, tzinfo=LON), ["fr-amara", "fr-lucas", "de-kenji"], True),
        (datetime(2026, 12, 24, 23, 59, tzinfo=LON), ["fr-amara", "fr-lucas", "de-kenji"], False),
    ],
)
def test_on_call_for_pipelines(at: datetime, unit_people: list[str], investor_active: bool) -> None:
    teams, unit, investors = teams_and_pipelines()
    duties = schedules.on_call(unit, teams, at)
    assert all(d.active for d in duties)
    assert [p.id for d in duties for p in d.people] == unit_people
    (investor_duty,) = schedules.on_call(investors, teams, at)
    assert investor_duty.active is investor_active
    assert [p.id for p in investor_duty.people] == [unit_people[-1]]


def test_override_note_names_the_replaced_person() -> None:
    teams, unit, _ = teams_and_pipelines()
    duty = schedules.on_call(unit, teams, datetime(2026, 12, 15, tzinfo=LON))[1]
    assert duty.note == "override for Tom: holiday"


def test_timeline_splits_at_handoffs_overrides_and_month_windows() -> None:
    teams, unit, investors = teams_and_pipelines()
    start = datetime(2026, 12, 7, 9, 0, tzinfo=LON)
    end = start + timedelta(weeks=4)
    segments = schedules.timeline(unit, teams, start, end)
    people = [[p.id for p in s.duties[1].people] for s in segments]
    assert people == [["de-priya"], ["de-zoe"], ["de-kenji"], ["de-zoe"]]
    assert segments[0].start == start and segments[-1].end == end
    assert all(a.end == b.start for a, b in zip(segments, segments[1:], strict=False))
    windows = [
        (s.start, s.duties[0].active) for s in schedules.timeline(investors, teams, start, end)
    ]
    active = [w for w, is_active in windows if is_active]
    assert active[0] == datetime(2026, 12, 25, 0, 0, tzinfo=LON)
