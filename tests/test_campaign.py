"""The campaign plan: who sets it, what it refuses, the record of its changes, and the reverse
schedule (倒排工期) derived from it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from casework import clock
from casework.campaign.models import Campaign, CampaignChange, CampaignZone
from casework.campaign.plan import (Milestone, forecast_finish, needed_per_week, planned_done,
                                    reverse_schedule)
from casework.extensions import db


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def place(make):
    """Two zones: Z1 with four cases (one closed, one dismissed), Z2 with none."""
    z1, z2 = make.zone("Z1"), make.zone("Z2")
    return {"z1": z1, "z2": z2, "compound": make.compound(z1),
            "district": make.user("supervisor"), "admin": make.user("admin"),
            "zone_supervisor": make.user("supervisor", [z1]), "officer": make.user("officer", [z1]),
            "company": make.user("company")}


def _cases(api, place) -> None:
    """Four cases in Z1: one closed, one dismissed, two identified."""
    officer, supervisor = api.as_(place["officer"]), api.as_(place["zone_supervisor"])
    ids = [officer.create_case(place["compound"], owner_name="测试户主")["id"] for _ in range(4)]
    closed, dismissed = ids[0], ids[1]
    assert officer.attach(closed, "ownership_doc").status_code == 201
    assert officer.fire(closed, "verify_ownership").status_code == 200
    assert officer.attach(closed, "agreement").status_code == 201
    deadline = (clock.local_today() + timedelta(days=10)).isoformat()
    assert officer.fire(closed, "negotiate", deadline=deadline).status_code == 200
    assert officer.attach(closed, "after_photo").status_code == 201
    assert officer.fire(closed, "demolish", method="self").status_code == 200
    assert supervisor.fire(closed, "close", note="验收合格").status_code == 200
    assert officer.attach(dismissed, "other").status_code == 201
    assert supervisor.fire(dismissed, "dismiss", note="合法建筑").status_code == 200


def _plan(place, **changes) -> dict:
    today = clock.local_today()
    body = {"name": "清违专项行动", "start": (today - timedelta(weeks=10)).isoformat(),
            "end": (today + timedelta(weeks=8)).isoformat(),
            "zones": [{"zone_id": place["z2"].id, "target": 14}]}
    body.update(changes)
    return body


def test_a_district_supervisor_sets_the_plan_and_everyone_reads_its_reverse_schedule(api, place):
    _cases(api, place)
    assert api.as_(place["district"]).get("/api/v1/campaign").get_json()["error"]["code"] \
        == "no_campaign"
    today = clock.local_today()
    response = api.as_(place["district"]).put("/api/v1/campaign", json=_plan(place))
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    assert (plan["name"], plan["version"], plan["today"]) == ("清违专项行动", 1, today.isoformat())
    assert plan["updated_by"]["username"] == place["district"].username
    zones = {z["zone"]["code"]: z for z in plan["zones"]}
    # Z1 is held to the default: its cases not dismissed (3), one of them closed.
    assert (zones["Z1"]["target"], zones["Z1"]["target_is_default"]) == (3, True)
    assert (zones["Z1"]["done"], zones["Z1"]["remaining"]) == (1, 2)
    assert (zones["Z2"]["target"], zones["Z2"]["target_is_default"]) == (14, False)
    # The reverse schedule: from today to the end date, week by week, reaching the target.
    for zone in zones.values():
        schedule = zone["schedule"]
        assert schedule[-1]["must_reach"] == zone["target"]
        assert sum(week["to_clear"] for week in schedule) == zone["remaining"]
        assert all(week["to_clear"] >= 0 for week in schedule)
        assert len(schedule) in (9, 10)  # the rest of this week and eight more
    assert zones["Z2"]["needed_per_week"] == needed_per_week(14, today, today + timedelta(weeks=8))
    assert zones["Z2"]["needed_per_week"] == 2

    # Officers and zone supervisors read their zones; an admin reads everything.
    for user in (place["officer"], place["zone_supervisor"]):
        seen = api.as_(user).get("/api/v1/campaign").get_json()
        assert [z["zone"]["code"] for z in seen["zones"]] == ["Z1"]
    assert api.as_(place["admin"]).get("/api/v1/campaign").get_json() == plan


def test_only_the_district_command_changes_the_plan(api, place):
    assert api.as_(place["admin"]).put("/api/v1/campaign", json=_plan(place)).status_code == 200
    for role, status in (("zone_supervisor", 403), ("officer", 403), ("company", 404)):
        response = api.as_(place[role]).put("/api/v1/campaign", json=_plan(place, name="改了"))
        assert response.status_code == status, role
        assert response.get_json()["error"]["code"] in ("forbidden", "not_found")
    company = api.as_(place["company"])
    assert company.get("/api/v1/campaign").status_code == 404
    assert company.get("/api/v1/campaign/changes").status_code == 404
    assert db.session.scalar(select(Campaign.name)) == "清违专项行动"
    assert _count(CampaignChange) == 1


def test_an_invalid_plan_is_refused_with_every_reason_and_changes_nothing(api, place):
    district = api.as_(place["district"])
    assert district.put("/api/v1/campaign", json=_plan(place)).status_code == 200
    before = district.get("/api/v1/campaign").get_json()
    start = date.fromisoformat(before["start"])
    bad_plans = {
        "end": _plan(place, end=before["start"]),
        "zones.0.zone_id": _plan(place, zones=[{"zone_id": 9999}]),
        "zones.1.zone_id": _plan(place, zones=[{"zone_id": place["z1"].id},
                                               {"zone_id": place["z1"].id, "target": 3}]),
        "zones.0.milestones.0.date": _plan(place, zones=[{
            "zone_id": place["z1"].id, "milestones": [
                {"date": (start - timedelta(days=1)).isoformat(), "cumulative_done": 1}]}]),
        "zones.0.milestones.1.cumulative_done": _plan(place, zones=[{
            "zone_id": place["z1"].id, "target": 10, "milestones": [
                {"date": (start + timedelta(days=7)).isoformat(), "cumulative_done": 5},
                {"date": (start + timedelta(days=14)).isoformat(), "cumulative_done": 11}]}]),
        "zones.0.target": _plan(place, zones=[{"zone_id": place["z1"].id, "target": -1}]),
        "start": _plan(place, start="2026-02-30"),
        "name": _plan(place, name=""),
        "extra": _plan(place, extra=True),
    }
    for field, body in bad_plans.items():
        response = district.put("/api/v1/campaign", json=body)
        assert response.status_code == 422, (field, response.get_json())
        error = response.get_json()["error"]
        assert error["code"] == "validation_failed"
        assert field in [d["field"] for d in error["details"]], (field, error)
    # Every broken rule is named at once, not only the first.
    several = district.put("/api/v1/campaign", json=_plan(
        place, end=before["start"], zones=[{"zone_id": 9999}])).get_json()["error"]["details"]
    assert {d["field"] for d in several} == {"end", "zones.0.zone_id"}
    assert district.put("/api/v1/campaign", data="[]",
                        content_type="application/json").status_code == 400
    assert district.get("/api/v1/campaign").get_json() == before
    assert _count(CampaignChange) == 1


def test_every_change_is_recorded_with_who_when_and_what(api, place):
    district, admin = api.as_(place["district"]), api.as_(place["admin"])
    first = district.put("/api/v1/campaign", json=_plan(place)).get_json()
    # The same plan again changes nothing and records nothing.
    assert district.put("/api/v1/campaign", json=_plan(place)).get_json()["version"] == 1
    start = date.fromisoformat(first["start"])
    milestone = {"date": (start + timedelta(days=35)).isoformat(), "cumulative_done": 1}
    second = admin.put("/api/v1/campaign", json=_plan(
        place, name="清违专项行动(调整)",
        zones=[{"zone_id": place["z1"].id, "milestones": [milestone]}])).get_json()
    assert second["version"] == 2
    assert second["updated_by"]["username"] == place["admin"].username
    z1 = next(z for z in second["zones"] if z["zone"]["code"] == "Z1")
    assert z1["milestones"] == [milestone] and z1["target_is_default"] is True

    # A plan read before that change is stale now.
    stale = district.put("/api/v1/campaign", json=_plan(place, expected_version=1))
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_version"
    assert district.put("/api/v1/campaign",
                        json=_plan(place, expected_version=2, name="第三版")).status_code == 200

    changes = api.as_(place["zone_supervisor"]).get("/api/v1/campaign/changes").get_json()
    assert changes["total"] == 3
    newest, middle, oldest = changes["items"]
    assert oldest["changed"] == ["created"] and oldest["before"] is None
    assert oldest["by"]["username"] == place["district"].username
    assert middle["by"]["username"] == place["admin"].username
    assert middle["changed"] == ["name", "zones.Z1.milestones", "zones.Z2.target"]
    assert middle["before"]["name"] == "清违专项行动"
    assert middle["after"]["zones"] == [{"zone_id": place["z1"].id, "code": "Z1", "target": None,
                                         "milestones": [milestone]}]
    assert newest["changed"] == ["name", "zones.Z1.milestones", "zones.Z2.target"]
    assert newest["at"] >= middle["at"] >= oldest["at"]
    assert _count(CampaignZone) == 1
    paged = district.get("/api/v1/campaign/changes?per_page=1&page=3").get_json()
    assert [c["id"] for c in paged["items"]] == [oldest["id"]]


# The plan's arithmetic -----------------------------------------------------------------------

def test_the_plan_runs_straight_or_through_its_milestones():
    start, end = date(2026, 9, 14), date(2026, 9, 23)  # ten days
    assert planned_done(start, end, 100, [], start - timedelta(days=1)) == 0
    assert planned_done(start, end, 100, [], start) == 10
    assert planned_done(start, end, 100, [], date(2026, 9, 18)) == 50
    assert planned_done(start, end, 100, [], end) == 100
    assert planned_done(start, end, 100, [], end + timedelta(days=30)) == 100
    milestones = [Milestone(date(2026, 9, 15), 60)]
    assert planned_done(start, end, 100, milestones, start) == 30
    assert planned_done(start, end, 100, milestones, date(2026, 9, 15)) == 60
    assert planned_done(start, end, 100, milestones, date(2026, 9, 19)) == 80


def test_the_reverse_schedule_and_the_forecast():
    today = date(2026, 11, 26)  # a Thursday
    end = today + timedelta(days=17)  # the Sunday two weeks on
    schedule = reverse_schedule(today, end, 10, 28, [])
    assert [w.week for w in schedule] == ["2026-W48", "2026-W49", "2026-W50"]
    assert [w.must_reach for w in schedule] == [14, 21, 28]
    assert [w.to_clear for w in schedule] == [4, 7, 7]
    # A milestone ahead pulls the schedule up to it.
    ahead = reverse_schedule(today, end, 10, 28, [Milestone(today + timedelta(days=3), 20)])
    assert [w.must_reach for w in ahead] == [20, 24, 28]
    assert reverse_schedule(end + timedelta(days=1), end, 10, 28, []) == []
    assert needed_per_week(18, today, end) == 7
    assert needed_per_week(18, end + timedelta(days=2), end) == 18
    assert needed_per_week(0, today, end) == 0
    assert forecast_finish(10, 20, today) == today + timedelta(days=14)
    assert forecast_finish(10, 0, today) is None
    assert forecast_finish(0, 0, today) == today
