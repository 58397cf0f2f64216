"""Who sees which case (spec section 8): zones, 404 for what a user may not see, personal data,
the case list's filters and paging, and editing a case's descriptive fields."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from casework import clock
from casework.accounts.models import User
from tests.support import District

PERSONAL = {"owner_name", "owner_phone", "owner_id_number"}
OWNER = {"owner_name": "演示户主甲", "owner_phone": "000-0000-0001",
         "owner_id_number": "000000000000000001"}


@pytest.fixture
def district(api, make) -> District:
    """Zones A and B, a case in each (A's with the owner's personal data)."""
    d = District(api, make)
    d.cases["a"] = d.new_case(address="幸福路1号", **OWNER)
    d.cases["b"] = d.new_case("ZB", address="和平路2号", owner_name="演示户主乙")
    return d


def person(d: District, who: str) -> User:
    """A user of the district by the name the parameters give: zone A's officer and supervisor,
    zone B's officer, or a district-wide one (chief, admin, company)."""
    named = {"officer_a": d.officer, "supervisor_a": d.supervisor, "officer_b": d.stranger}
    return named[who] if who in named else getattr(d, who)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def case_now(api, user: User, case_id: int) -> dict:
    r = api.as_(user).get(f"/api/v1/cases/{case_id}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def events(api, user: User, case_id: int) -> list[dict]:
    return api.as_(user).get(f"/api/v1/cases/{case_id}/events").get_json()["items"]


# Seeing cases ------------------------------------------------------------------------------

def test_officers_and_supervisors_list_only_cases_of_their_zones(api, district):
    d = district
    assert ids(api.as_(d.officer).get("/api/v1/cases")) == [d.cases["a"]["id"]]
    assert ids(api.as_(d.stranger).get("/api/v1/cases")) == [d.cases["b"]["id"]]
    assert ids(api.as_(d.supervisor).get("/api/v1/cases")) == [d.cases["a"]["id"]]


def test_a_supervisor_with_no_zone_sees_the_whole_district(api, district):
    d = district
    assert sorted(ids(api.as_(d.chief).get("/api/v1/cases"))) == sorted(
        [d.cases["a"]["id"], d.cases["b"]["id"]])
    assert case_now(api, d.chief, d.cases["b"]["id"])["ref"] == d.cases["b"]["ref"]


@pytest.mark.parametrize("who", ["officer_a", "supervisor_a", "company"])
def test_a_case_the_user_may_not_see_answers_404_everywhere(api, district, who):
    d = district
    user = person(d, who)
    target = d.cases["b"]["id"]
    upload = api.as_(d.stranger).attach(target, "ownership_doc")
    assert upload.status_code == 201
    attachment_id = upload.get_json()["id"]
    before = case_now(api, d.stranger, target)
    history = events(api, d.stranger, target)
    as_user = api.as_(user)
    requests = {
        "read": as_user.get(f"/api/v1/cases/{target}"),
        "edit": as_user.patch(f"/api/v1/cases/{target}",
                              json={"expected_version": before["version"], "address": "改"}),
        "transition": as_user.post(f"/api/v1/cases/{target}/transitions", json={
            "trigger": "verify_ownership", "expected_version": before["version"]}),
        "events": as_user.get(f"/api/v1/cases/{target}/events"),
        "attachments": as_user.get(f"/api/v1/cases/{target}/attachments"),
        "upload": as_user.attach(target, "before_photo"),
        "download": as_user.get(f"/api/v1/cases/{target}/attachments/{attachment_id}"),
    }
    missing = as_user.get("/api/v1/cases/999999")
    assert missing.status_code == 404
    for label, r in requests.items():
        assert (label, r.status_code) == (label, 404)
        assert r.get_json() == missing.get_json(), label  # indistinguishable from no case
    assert case_now(api, d.stranger, target) == before
    assert events(api, d.stranger, target) == history


def test_company_users_get_403_on_the_case_list(api, district):
    r = api.as_(district.company).get("/api/v1/cases")
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "forbidden"


def test_an_admin_sees_cases_but_not_owner_personal_data(api, district):
    d = district
    listed = api.as_(d.admin).get("/api/v1/cases").get_json()["items"]
    assert sorted(c["id"] for c in listed) == sorted([d.cases["a"]["id"], d.cases["b"]["id"]])
    one = case_now(api, d.admin, d.cases["a"]["id"])
    for shown in [one, *listed]:
        assert PERSONAL.isdisjoint(shown)
        assert "演示户主" not in json.dumps(shown, ensure_ascii=False)
        assert "000-0000-0001" not in json.dumps(shown, ensure_ascii=False)


@pytest.mark.parametrize("who, sees", [("officer_a", True), ("supervisor_a", True),
                                       ("chief", True), ("admin", False)])
def test_owner_fields_are_shown_to_officers_and_supervisors_only(api, district, who, sees):
    d = district
    user = person(d, who)
    shown = case_now(api, user, d.cases["a"]["id"])
    listed = api.as_(user).get("/api/v1/cases").get_json()["items"]
    listed = next(c for c in listed if c["id"] == d.cases["a"]["id"])
    for case in (shown, listed):
        if sees:
            assert {k: case[k] for k in PERSONAL} == OWNER
        else:
            assert PERSONAL.isdisjoint(case)


# Filters, search and paging -----------------------------------------------------------------

def test_the_list_filters_by_state_one_or_several(api, district):
    d = district
    chief = api.as_(d.chief)
    api.as_(d.officer).attach(d.cases["a"]["id"], "ownership_doc")
    assert api.as_(d.officer).fire(d.cases["a"]["id"], "verify_ownership").status_code == 200
    assert ids(chief.get("/api/v1/cases?state=ownership_verified")) == [d.cases["a"]["id"]]
    assert ids(chief.get("/api/v1/cases?state=identified")) == [d.cases["b"]["id"]]
    both = [d.cases["b"]["id"], d.cases["a"]["id"]]
    assert ids(chief.get("/api/v1/cases?state=identified,ownership_verified")) == both
    assert ids(chief.get("/api/v1/cases?state=identified&state=ownership_verified")) == both
    assert ids(chief.get("/api/v1/cases?state=closed")) == []
    wrong = chief.get("/api/v1/cases?state=identified,flattened")
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["details"][0]["field"].startswith("state")


def test_the_list_filters_by_zone_code_or_id(api, district):
    d = district
    chief = api.as_(d.chief)
    assert ids(chief.get("/api/v1/cases?zone=ZA")) == [d.cases["a"]["id"]]
    assert ids(chief.get(f"/api/v1/cases?zone={d.zones['ZB'].zone.id}")) == [d.cases["b"]["id"]]
    assert ids(chief.get("/api/v1/cases?zone=NOPE")) == []
    # A zone filter never widens what an officer sees.
    assert ids(api.as_(d.officer).get("/api/v1/cases?zone=ZB")) == []


def test_a_zone_code_that_looks_like_an_id_names_that_zone_only(api, make, district):
    d = district
    numbered = make.zone(str(d.zones["ZB"].zone.id))  # code "2" while zone ZB has id 2
    case = api.as_(d.chief).create_case(make.compound(numbered))
    chief = api.as_(d.chief)
    assert ids(chief.get(f"/api/v1/cases?zone={d.zones['ZB'].zone.id}")) == [case["id"]]
    assert ids(chief.get(f"/api/v1/cases?zone={numbered.id}")) == [case["id"]]
    assert ids(chief.get("/api/v1/cases?zone=%C2%B9")) == []  # "¹" is a digit to Python only


def test_the_list_filters_by_compound_kind_and_officer(api, make, district):
    d = district
    officer_a2 = make.user("officer", [d.zone])
    other_compound = make.compound(d.zone)
    illegal = api.as_(d.supervisor).create_case(other_compound, kind="illegal_structure",
                                                   officer_id=officer_a2.id)
    chief = api.as_(d.chief)
    assert ids(chief.get(f"/api/v1/cases?compound={other_compound.id}")) == [illegal["id"]]
    compound_b = d.zones["ZB"].compounds[0]
    assert ids(chief.get(f"/api/v1/cases?compound={compound_b.id}")) == [d.cases["b"]["id"]]
    assert ids(chief.get("/api/v1/cases?kind=illegal_structure")) == [illegal["id"]]
    assert ids(chief.get("/api/v1/cases?kind=shed")) == [d.cases["b"]["id"], d.cases["a"]["id"]]
    assert ids(chief.get(f"/api/v1/cases?officer={officer_a2.id}")) == [illegal["id"]]
    assert ids(chief.get(f"/api/v1/cases?officer={d.officer.id}")) == [d.cases["a"]["id"]]
    assert ids(chief.get("/api/v1/cases?zone=ZA&kind=shed")) == [d.cases["a"]["id"]]
    assert chief.get("/api/v1/cases?kind=garage").status_code == 422


def test_the_list_filters_overdue_cases(api, make, district):
    d = district
    make.set_due_at(d.cases["a"]["id"], -1)
    chief = api.as_(d.chief)
    late = chief.get("/api/v1/cases?overdue=true")
    assert ids(late) == [d.cases["a"]["id"]]
    assert late.get_json()["items"][0]["overdue"] is True
    on_time = chief.get("/api/v1/cases?overdue=false")
    assert ids(on_time) == [d.cases["b"]["id"]]
    assert on_time.get_json()["items"][0]["overdue"] is False
    assert chief.get("/api/v1/cases?overdue=maybe").status_code == 422


def test_search_finds_ref_address_and_description(api, district):
    d = district
    officer = api.as_(d.officer)
    r = officer.patch(f"/api/v1/cases/{d.cases['a']['id']}",
                      json={"expected_version": d.cases["a"]["version"], "description": "彩钢板棚厦"})
    assert r.status_code == 200, r.get_json()
    chief = api.as_(d.chief)
    assert ids(chief.get(f"/api/v1/cases?q={d.cases['b']['ref']}")) == [d.cases["b"]["id"]]
    assert ids(chief.get("/api/v1/cases?q=幸福路")) == [d.cases["a"]["id"]]
    assert ids(chief.get("/api/v1/cases?q=彩钢")) == [d.cases["a"]["id"]]
    assert ids(chief.get("/api/v1/cases?q=无此地址")) == []
    # Search stays inside the user's zones.
    assert ids(officer.get(f"/api/v1/cases?q={d.cases['b']['ref']}")) == []


def test_search_takes_percent_and_underscore_literally(api, district):
    d = district
    for case, text in ((d.cases["a"], "拆除进度98%"), (d.cases["b"], "拆除进度980")):
        r = api.as_(d.chief).patch(f"/api/v1/cases/{case['id']}", json={
            "expected_version": case["version"], "description": text})
        assert r.status_code == 200, r.get_json()
    chief = api.as_(d.chief)
    assert ids(chief.get("/api/v1/cases?q=98%25")) == [d.cases["a"]["id"]]
    assert ids(chief.get("/api/v1/cases?q=_")) == []
    assert ids(chief.get("/api/v1/cases?q=%5C")) == []


def test_search_by_owner_name_is_for_officers_and_supervisors_only(api, district):
    d = district
    assert ids(api.as_(d.officer).get("/api/v1/cases?q=户主甲")) == [d.cases["a"]["id"]]
    assert ids(api.as_(d.chief).get("/api/v1/cases?q=户主乙")) == [d.cases["b"]["id"]]
    assert ids(api.as_(d.admin).get("/api/v1/cases?q=户主甲")) == []


def test_the_list_is_paged_newest_first(api, make):
    zone = make.zone()
    compound = make.compound(zone)
    officer = make.user("officer", [zone])
    created = [api.as_(officer).create_case(compound)["id"] for _ in range(5)]
    seen = []
    for page, size in ((1, 2), (2, 2), (3, 1)):
        r = api.as_(officer).get(f"/api/v1/cases?per_page=2&page={page}")
        body = r.get_json()
        assert (body["page"], body["per_page"], body["total"]) == (page, 2, 5)
        assert len(body["items"]) == size
        seen += [item["id"] for item in body["items"]]
    assert seen == list(reversed(created))
    beyond = api.as_(officer).get("/api/v1/cases?per_page=2&page=4").get_json()
    assert beyond["items"] == [] and beyond["total"] == 5
    assert api.as_(officer).get("/api/v1/cases?per_page=0").status_code == 422
    assert api.as_(officer).get("/api/v1/cases?page=abc").status_code == 422


# Editing ----------------------------------------------------------------------------------

def test_patch_edits_descriptive_fields_and_records_an_edit_event(api, district):
    d = district
    case = d.cases["a"]
    r = api.as_(d.officer).patch(f"/api/v1/cases/{case['id']}", json={
        "expected_version": case["version"], "address": "幸福路1号后院", "difficulty": 5,
        "owner_phone": "000-0000-0009", "owner_name": "演示户主丙"})
    assert r.status_code == 200, r.get_json()
    edited = r.get_json()
    assert edited["version"] == case["version"] + 1
    assert (edited["address"], edited["difficulty"]) == ("幸福路1号后院", 5)
    assert (edited["owner_phone"], edited["owner_name"]) == ("000-0000-0009", "演示户主丙")
    assert edited["state"] == "identified"
    assert case_now(api, d.officer, case["id"]) == edited
    last = events(api, d.officer, case["id"])[-1]
    assert (last["trigger"], last["actor"]) == ("edit", d.officer.username)
    assert set(last["data"]["changed"]) == {"address", "difficulty", "owner_phone", "owner_name"}
    assert last["data"]["changed"]["address"] == "幸福路1号后院"
    recorded = json.dumps(last, ensure_ascii=False)
    assert "000-0000-0009" not in recorded and "演示户主丙" not in recorded


def test_patch_with_a_stale_version_is_refused_and_changes_nothing(api, district):
    d = district
    case_id = d.cases["a"]["id"]
    stale = d.cases["a"]["version"]
    assert api.as_(d.officer).patch(f"/api/v1/cases/{case_id}", json={
        "expected_version": stale, "address": "第一次修改"}).status_code == 200
    before, history = case_now(api, d.officer, case_id), events(api, d.officer, case_id)
    r = api.as_(d.supervisor).patch(f"/api/v1/cases/{case_id}", json={
        "expected_version": stale, "address": "第二次修改", "owner_name": "演示户主丁"})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "stale_version"
    assert case_now(api, d.officer, case_id) == before
    assert events(api, d.officer, case_id) == history


@pytest.mark.parametrize("who", ["officer_b", "supervisor_a", "company", "nobody"])
def test_patch_refuses_an_officer_id_outside_the_cases_zone(api, district, who):
    d = district
    officer_id = 999999 if who == "nobody" else person(d, who).id
    case_id = d.cases["a"]["id"]
    before = case_now(api, d.officer, case_id)
    r = api.as_(d.supervisor).patch(f"/api/v1/cases/{case_id}", json={
        "expected_version": before["version"], "officer_id": officer_id})
    assert r.status_code == 422
    assert [p["field"] for p in r.get_json()["error"]["details"]] == ["officer_id"]
    assert case_now(api, d.officer, case_id) == before


def test_patch_assigns_another_officer_of_the_zone(api, make, district):
    d = district
    colleague = make.user("officer", [d.zone])
    r = api.as_(d.supervisor).patch(f"/api/v1/cases/{d.cases['a']['id']}", json={
        "expected_version": d.cases["a"]["version"], "officer_id": colleague.id})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["officer_id"] == colleague.id


def test_patch_refuses_read_only_fields(api, district):
    d = district
    before = case_now(api, d.officer, d.cases["a"]["id"])
    r = api.as_(d.officer).patch(f"/api/v1/cases/{d.cases['a']['id']}", json={
        "expected_version": before["version"], "state": "closed", "ref": "DA-0000-000000"})
    assert r.status_code == 422
    assert sorted(p["field"] for p in r.get_json()["error"]["details"]) == ["ref", "state"]
    assert case_now(api, d.officer, d.cases["a"]["id"]) == before


def test_a_closed_case_cannot_be_edited(api, district):
    d = district
    case_id = d.cases["a"]["id"]
    officer = api.as_(d.officer)
    deadline = (clock.now() + timedelta(days=10)).date().isoformat()
    steps = [("ownership_doc", "verify_ownership", {}),
             ("agreement", "negotiate", {"deadline": deadline}),
             ("after_photo", "demolish", {"method": "self"})]
    for kind, trigger, fields in steps:
        assert officer.attach(case_id, kind).status_code == 201
        assert officer.fire(case_id, trigger, **fields).status_code == 200
    closed = api.as_(d.supervisor).fire(case_id, "close", note="验收合格")
    assert closed.get_json()["state"] == "closed"
    before, history = case_now(api, d.officer, case_id), events(api, d.officer, case_id)
    r = officer.patch(f"/api/v1/cases/{case_id}", json={
        "expected_version": before["version"], "description": "结案后修改"})
    assert r.status_code == 409
    assert case_now(api, d.officer, case_id) == before
    assert events(api, d.officer, case_id) == history


def test_moving_a_case_to_another_zone_refuses_to_keep_an_officer_of_the_old_zone(api, district):
    d = district
    before = case_now(api, d.chief, d.cases["a"]["id"])
    r = api.as_(d.chief).patch(f"/api/v1/cases/{d.cases['a']['id']}", json={
        "expected_version": before["version"], "compound_id": d.zones["ZB"].compounds[0].id})
    assert r.status_code == 422, r.get_json()
    assert [p["field"] for p in r.get_json()["error"]["details"]] == ["officer_id"]
    assert case_now(api, d.chief, d.cases["a"]["id"]) == before
