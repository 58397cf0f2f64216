"""Zones (片区) and compounds (小区): admins create them, everyone else sees their own zones."""
from __future__ import annotations

import pytest

from casework.accounts.models import User

ZONES = "/api/v1/zones"
COMPOUNDS = "/api/v1/compounds"


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()["items"]]


def codes(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["code"] for item in response.get_json()["items"]]


def user_of(make, role: str, zones=()) -> User:
    return make.user(role, list(zones)) if role in ("officer", "supervisor") else make.user(role)


# Creating ---------------------------------------------------------------------------------

def test_an_admin_creates_a_zone(api, make):
    admin = make.user("admin")
    r = api.as_(admin).post(ZONES, json={"code": "Z9", "name": "演示第九片区"})
    assert r.status_code == 201, r.get_json()
    zone = r.get_json()
    assert set(zone) == {"id", "code", "name"}
    assert (zone["code"], zone["name"]) == ("Z9", "演示第九片区")
    assert api.as_(admin).get(ZONES).get_json()["items"] == [zone]


def test_an_admin_creates_a_compound(api, make):
    admin = make.user("admin")
    zone = make.zone()
    r = api.as_(admin).post(COMPOUNDS, json={"zone_id": zone.id, "name": "演示小区",
                                             "address": "演示路8号"})
    assert r.status_code == 201, r.get_json()
    compound = r.get_json()
    assert set(compound) == {"id", "zone_id", "name", "address"}
    assert (compound["zone_id"], compound["name"], compound["address"]) == (
        zone.id, "演示小区", "演示路8号")
    assert api.as_(admin).get(COMPOUNDS).get_json()["items"] == [compound]


@pytest.mark.parametrize("role", ["officer", "supervisor", "company"])
def test_only_admins_create_zones(api, make, role):
    zone = make.zone("Z1")
    user = user_of(make, role, [zone])
    r = api.as_(user).post(ZONES, json={"code": "Z2", "name": "演示片区"})
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "forbidden"
    assert codes(api.as_(make.user("admin")).get(ZONES)) == ["Z1"]


@pytest.mark.parametrize("role", ["officer", "supervisor", "company"])
def test_only_admins_create_compounds(api, make, role):
    zone = make.zone()
    user = user_of(make, role, [zone])
    r = api.as_(user).post(COMPOUNDS, json={"zone_id": zone.id, "name": "演示小区"})
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "forbidden"
    assert names(api.as_(make.user("admin")).get(COMPOUNDS)) == []


def test_a_duplicate_zone_code_is_refused(api, make):
    admin = api.as_(make.user("admin"))
    first = admin.post(ZONES, json={"code": "Z1", "name": "演示片区一"}).get_json()
    r = admin.post(ZONES, json={"code": "Z1", "name": "另一个名字"})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "duplicate"
    assert admin.get(ZONES).get_json()["items"] == [first]


def test_a_compound_name_is_unique_within_its_zone_only(api, make):
    admin = api.as_(make.user("admin"))
    zone_a, zone_b = make.zone(), make.zone()
    assert admin.post(COMPOUNDS, json={"zone_id": zone_a.id, "name": "幸福小区"}).status_code == 201
    r = admin.post(COMPOUNDS, json={"zone_id": zone_a.id, "name": "幸福小区", "address": "别处"})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "duplicate"
    assert admin.post(COMPOUNDS, json={"zone_id": zone_b.id, "name": "幸福小区"}).status_code == 201
    assert names(admin.get(COMPOUNDS)) == ["幸福小区", "幸福小区"]
    assert names(admin.get(f"{COMPOUNDS}?zone_id={zone_a.id}")) == ["幸福小区"]


def test_a_compound_in_an_unknown_zone_is_refused(api, make):
    admin = api.as_(make.user("admin"))
    r = admin.post(COMPOUNDS, json={"zone_id": 999999, "name": "演示小区"})
    assert r.status_code == 422
    assert [p["field"] for p in r.get_json()["error"]["details"]] == ["zone_id"]
    assert names(admin.get(COMPOUNDS)) == []


def test_invalid_place_bodies_list_every_failed_rule(api, make):
    admin = api.as_(make.user("admin"))
    r = admin.post(ZONES, json={"code": "片区 1", "name": "", "colour": "red"})
    assert r.status_code == 422
    assert sorted(p["field"] for p in r.get_json()["error"]["details"]) == ["code", "colour", "name"]
    r = admin.post(COMPOUNDS, json={"zone_id": "abc"})
    assert r.status_code == 422
    assert sorted(p["field"] for p in r.get_json()["error"]["details"]) == ["name", "zone_id"]
    assert admin.post(ZONES, json=["Z1"]).status_code == 400
    assert codes(admin.get(ZONES)) == []


# Seeing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["officer", "supervisor"])
def test_officers_and_supervisors_see_only_their_zones_and_compounds(api, make, role):
    zone_a, zone_b, zone_c = make.zone("ZA"), make.zone("ZB"), make.zone("ZC")
    in_a, in_b, in_c = make.compound(zone_a), make.compound(zone_b), make.compound(zone_c)
    user = api.as_(make.user(role, [zone_a, zone_c]))
    assert codes(user.get(ZONES)) == ["ZA", "ZC"]
    assert sorted(names(user.get(COMPOUNDS))) == sorted([in_a.name, in_c.name])
    # Asking for another zone's compounds finds nothing rather than widening the view.
    assert names(user.get(f"{COMPOUNDS}?zone_id={zone_b.id}")) == []
    assert in_b.name not in names(user.get(COMPOUNDS))


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_admins_and_supervisors_without_a_zone_see_every_zone(api, make, role):
    zone_a, zone_b = make.zone("ZA"), make.zone("ZB")
    in_a, in_b = make.compound(zone_a), make.compound(zone_b)
    user = api.as_(make.user(role))
    assert codes(user.get(ZONES)) == ["ZA", "ZB"]
    assert sorted(names(user.get(COMPOUNDS))) == sorted([in_a.name, in_b.name])


def test_company_users_do_not_list_places(api, make):
    make.compound(make.zone())
    user = api.as_(make.user("company"))
    assert user.get(ZONES).status_code == 403
    assert user.get(COMPOUNDS).status_code == 403


def test_compounds_filter_by_zone(api, make):
    zone_a, zone_b = make.zone(), make.zone()
    in_a = [make.compound(zone_a), make.compound(zone_a)]
    make.compound(zone_b)
    officer = api.as_(make.user("officer", [zone_a, zone_b]))
    r = officer.get(f"{COMPOUNDS}?zone_id={zone_a.id}")
    assert sorted(names(r)) == sorted(c.name for c in in_a)
    assert {c["zone_id"] for c in r.get_json()["items"]} == {zone_a.id}
    assert officer.get(f"{COMPOUNDS}?zone_id=abc").status_code == 422


def test_compounds_are_paged(api, make):
    zone = make.zone()
    created = sorted(make.compound(zone).name for _ in range(5))
    admin = api.as_(make.user("admin"))
    seen = []
    for page, size in ((1, 2), (2, 2), (3, 1)):
        body = admin.get(f"{COMPOUNDS}?per_page=2&page={page}").get_json()
        assert (body["page"], body["per_page"], body["total"]) == (page, 2, 5)
        assert len(body["items"]) == size
        seen += [c["name"] for c in body["items"]]
    assert seen == created
    assert admin.get(f"{COMPOUNDS}?per_page=2&page=9").get_json()["items"] == []
    assert admin.get(f"{COMPOUNDS}?per_page=1000").status_code == 422
