"""Lists at a city's scale (issue 10): every list walks by cursor (``after`` / ``next``) as well
as by page number, each row once and in order, however the list is filtered and however many
rows share a creation time; a cursor is not moved by rows added meanwhile; a cursor the list
did not give is refused; counts beyond CASEWORK_LIST_COUNT_LIMIT are marked as estimates; and
case search finds two-character Chinese words exactly as before, owners' names only for those
who may see them."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy

from casework import clock
from casework.accounts.models import User
from casework.extensions import db
from casework.places.models import Compound, Zone
from tests.support import Api, assert_error
from tests.web import page_text, sign_in

# Three creation times, each shared by several cases: the list's order among them is the id.
MOMENTS = [datetime(2026, 11, 20, 8, 0, 0, 123456, tzinfo=timezone.utc) + timedelta(hours=h)
           for h in range(3)]
TEXTS = [("和平路4号棚厦", "楼间私搭棚厦", "王某某"), ("幸福路2号", "彩钢房", "李棚厦"),
         ("东风路9号", "违建平台", "赵某"), ("和平路8号", "私搭彩钢棚", None),
         ("厦门路1号", "临街棚", "棚某")]


@dataclass
class City:
    api: Api
    zones: list[Zone]
    compounds: list[Compound]
    officers: list[User]
    chief: User  # a supervisor of the whole district
    admin: User
    cases: list[dict]  # as created, oldest first (ties in id order)

    def walk(self, user: User, path: str, query: str = "", per_page: int = 2,
             after: str | None = None) -> list[dict]:
        """Every item of a list, page after page by ``next``, checking each page's shape."""
        items = []
        while True:
            cursor = f"&after={after}" if after else ""
            r = self.api.as_(user).get(f"{path}?per_page={per_page}{cursor}&{query}")
            assert r.status_code == 200, r.get_json()
            body = r.get_json()
            assert len(body["items"]) <= per_page
            assert body["page"] == (None if after else 1)
            items += body["items"]
            after = body["next"]
            if after is None:
                return items

    def whole(self, user: User, path: str, query: str = "") -> list[dict]:
        r = self.api.as_(user).get(f"{path}?per_page=200&{query}")
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["next"] is None
        return r.get_json()["items"]


@pytest.fixture
def city(api, make) -> City:
    zones = [make.zone(), make.zone()]
    compounds = [make.compound(zones[0]), make.compound(zones[0]), make.compound(zones[1])]
    officers = [make.user("officer", [zones[0]]), make.user("officer", [zones[1]])]
    cases = []
    for n in range(13):
        compound = compounds[n % 3]
        officer = officers[0] if compound.zone_id == zones[0].id else officers[1]
        address, description, owner = TEXTS[n % len(TEXTS)]
        with clock.frozen(MOMENTS[n % 3]):
            cases.append(api.as_(officer).create_case(
                compound, kind="shed" if n % 2 else "illegal_structure", address=address,
                description=description, owner_name=owner, officer_id=officer.id))
    for case in cases[::4]:
        make.set_due_at(case["id"], -1)
    return City(api, zones, compounds, officers, make.user("supervisor"), make.user("admin"),
                sorted(cases, key=lambda c: (c["created_at"], c["id"])))


def newest_first(cases: list[dict]) -> list[int]:
    return [c["id"] for c in sorted(cases, key=lambda c: (c["created_at"], c["id"]),
                                    reverse=True)]


def ids(items: list[dict]) -> list[int]:
    return [item["id"] for item in items]


@pytest.mark.parametrize("query", [
    "", "state=identified", "kind=shed", "overdue=true", "overdue=false", "q=棚厦", "q=和平路",
    "zone={zone}", "compound={compound}", "officer={officer}", "kind=illegal_structure&zone={zone}"])
def test_walking_by_cursor_gives_every_case_once_newest_first(city, query):
    query = query.format(zone=city.zones[0].code, compound=city.compounds[1].id,
                         officer=city.officers[1].id)
    expected = ids(city.whole(city.chief, "/api/v1/cases", query))
    assert expected, "each filter keeps some cases"
    for per_page in (1, 2, 5):
        walked = ids(city.walk(city.chief, "/api/v1/cases", query, per_page))
        assert walked == expected
    by_number = []
    for page in range(1, 8):
        by_number += ids(city.api.as_(city.chief).get(
            f"/api/v1/cases?per_page=2&page={page}&{query}").get_json()["items"])
    assert by_number == expected


def test_cases_sharing_a_creation_time_come_in_id_order(city):
    walked = city.walk(city.chief, "/api/v1/cases", per_page=2)
    assert ids(walked) == newest_first(city.cases)
    assert len({item["created_at"] for item in walked}) == 3


def test_a_page_by_number_gives_the_cursor_of_the_next(city):
    first = city.api.as_(city.chief).get("/api/v1/cases?per_page=4&page=2").get_json()
    rest = city.api.as_(city.chief).get(f"/api/v1/cases?per_page=20&after={first['next']}")
    assert ids(rest.get_json()["items"]) == newest_first(city.cases)[8:]
    assert rest.get_json()["next"] is None


def test_a_cursor_is_not_moved_by_cases_added_meanwhile(city):
    officer = city.api.as_(city.officers[0])
    first = officer.get("/api/v1/cases?per_page=3").get_json()
    mine = [c for c in city.cases if c["zone_id"] == city.zones[0].id]
    with clock.frozen(MOMENTS[1]):  # among the ones already listed, and after them
        officer.create_case(city.compounds[0])
    officer.create_case(city.compounds[0])
    rest = city.walk(city.officers[0], "/api/v1/cases", after=first["next"])
    assert ids(first["items"]) + ids(rest) == newest_first(mine)


def test_work_orders_walk_by_cursor(city, make):
    company = make.user("company", company="测试物业甲")
    officer = city.api.as_(city.officers[0])
    for case in [c for c in city.cases if c["zone_id"] == city.zones[0].id][:3]:
        for kind in ("clear_debris", "post_notice"):
            with clock.frozen(MOMENTS[0]):
                r = officer.post(f"/api/v1/cases/{case['id']}/workorders", json={
                    "company_id": company.company_id, "kind": kind,
                    "due_date": (clock.local_today() + timedelta(days=5)).isoformat()})
            assert r.status_code == 201, r.get_json()
    for user, query in ((company, ""), (city.officers[0], "kind=post_notice"),
                        (city.chief, f"company={company.company_id}"),
                        (city.chief, "state=assigned")):
        expected = city.whole(user, "/api/v1/workorders", query)
        assert len(expected) in (3, 6)
        assert ids(expected) == sorted(ids(expected), reverse=True)  # one creation time
        assert ids(city.walk(user, "/api/v1/workorders", query, 4)) == ids(expected)


def disputed_and_resolved(city: City, times: int) -> dict:
    """A case of officer 0, verified, then disputed and resolved by a supervisor ``times``
    times: each step is one more step of its history and one more notice to the officer."""
    officer = city.officers[0]
    case = city.api.as_(officer).case_in(city.compounds[0], "ownership_verified",
                                         officer_id=officer.id)
    supervisor = city.api.as_(city.chief)
    for _ in range(times):
        assert supervisor.fire(case["id"], "dispute", note="业主有异议").status_code == 200
        assert supervisor.fire(case["id"], "resolve_dispute", note="已调解").status_code == 200
    return case


def test_the_inbox_walks_by_cursor(city):
    officer = city.officers[0]
    disputed_and_resolved(city, 3)
    for query in ("", "unread=true", "kind=transition"):
        expected = city.whole(officer, "/api/v1/notifications", query)
        assert len(expected) == 6
        assert ids(city.walk(officer, "/api/v1/notifications", query, 4)) == ids(expected)


def test_a_long_history_walks_by_cursor(city):
    case = disputed_and_resolved(city, 2)
    supervisor = city.api.as_(city.chief)
    path = f"/api/v1/cases/{case['id']}/events"
    whole = supervisor.get(path).get_json()
    assert whole["next"] is None and len(whole["items"]) == 7
    walked, after = [], ""
    while True:
        body = supervisor.get(f"{path}?per_page=2{after}").get_json()
        walked += body["items"]
        if body["next"] is None:
            break
        after = f"&after={body['next']}"
    assert [e["seq"] for e in walked] == [e["seq"] for e in whole["items"]] == [1, 2, 3, 4, 5, 6, 7]


def _cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("cursor", [
    "x", "bm90IGpzb24", _cursor("cases"), _cursor("cases", "yesterday", 3),
    _cursor("cases", "2026-11-20T08:00:00", 3),  # a time without its zone
    _cursor("cases", "2026-11-20T08:00:00+00:00", "3"), _cursor("cases", "2026-11-20T08:00:00+00:00", True),
    _cursor("cases", "2026-11-20T08:00:00+00:00", 2**70), _cursor("workorders", "2026-11-20T08:00:00+00:00", 3),
    _cursor("cases", "2026-11-20T08:00:00+00:00", 3, 4), _cursor({"cases": 1}), "a" * 501, "abc+/",
    base64.urlsafe_b64encode("[\"cases\",\"\\u00e9\"".encode("latin-1")).decode().rstrip("="),
])
def test_a_cursor_the_list_did_not_give_is_refused(city, cursor):
    body = assert_error(city.api.as_(city.chief).get(f"/api/v1/cases?after={cursor}"), 422)
    assert [d["field"] for d in body["details"]] == ["after"]


def test_other_lists_refuse_a_case_cursor(city):
    cases_cursor = city.api.as_(city.chief).get("/api/v1/cases?per_page=1").get_json()["next"]
    for path in ("/api/v1/workorders", "/api/v1/notifications",
                 f"/api/v1/cases/{city.cases[0]['id']}/events"):
        assert_error(city.api.as_(city.chief).get(f"{path}?after={cases_cursor}"), 422)


def test_with_after_the_page_number_is_not_used(city):
    """A client following next may keep the page of its first request in the address."""
    chief = city.api.as_(city.chief)
    cursor = chief.get("/api/v1/cases?per_page=1").get_json()["next"]
    by_cursor = chief.get(f"/api/v1/cases?per_page=1&after={cursor}").get_json()
    for page in (1, 7):
        body = chief.get(f"/api/v1/cases?per_page=1&page={page}&after={cursor}").get_json()
        assert body["items"] == by_cursor["items"] and body["page"] is None


def test_counts_beyond_the_limit_are_estimates(city, app):
    app.config["CASEWORK_LIST_COUNT_LIMIT"] = 5
    whole = city.api.as_(city.chief).get("/api/v1/cases?per_page=3").get_json()
    assert whole["total_is_estimate"] is True and whole["total"] >= 6
    few = city.api.as_(city.chief).get(f"/api/v1/cases?compound={city.compounds[2].id}"
                                       ).get_json()
    assert (few["total"], few["total_is_estimate"]) == (4, False)
    exact = city.api.as_(city.chief).get("/api/v1/cases?per_page=3&q=和平路").get_json()
    assert (exact["total"], exact["total_is_estimate"]) == (5, False)  # at the limit: exact
    # The walk is whole whatever the count says.
    assert len(city.walk(city.chief, "/api/v1/cases", per_page=5)) == 13
    app.config["CASEWORK_LIST_COUNT_LIMIT"] = 13
    assert city.api.as_(city.chief).get("/api/v1/cases").get_json()["total"] == 13


@pytest.mark.parametrize("words", ["棚厦", "彩钢", "和平", "棚", "厦门", "某某", "李棚", "号棚",
                                   "平路4", "DA-", "私搭彩钢棚", "无此词"])
def test_search_finds_words_anywhere_in_address_description_and_owner(city, words):
    def found_in(case: dict, owners: bool) -> bool:
        text = [case["ref"], case["address"], case["description"]]
        if owners:
            text.append(case["owner_name"] or "")
        return any(words.lower() in part.lower() for part in text)

    for user, owners in ((city.chief, True), (city.officers[0], True), (city.admin, False)):
        visible = [c for c in city.cases
                   if user is not city.officers[0] or c["zone_id"] == city.zones[0].id]
        r = city.api.as_(user).get(f"/api/v1/cases?per_page=200&q={words}")
        assert r.status_code == 200, r.get_json()
        assert ids(r.get_json()["items"]) == newest_first(
            [c for c in visible if found_in(c, owners)])


def test_owners_are_searched_only_by_those_who_may_see_them(city, make):
    # "李棚厦" is only an owner's name; "王某某" too.
    for words in ("李棚厦", "王某某"):
        assert city.whole(city.chief, "/api/v1/cases", f"q={words}")
        assert city.whole(city.admin, "/api/v1/cases", f"q={words}") == []
    company = make.user("company")
    assert_error(city.api.as_(company).get("/api/v1/cases?q=王某某"), 403)


def test_the_case_page_says_about_how_many_beyond_the_limit(city, app, monkeypatch):
    from casework.cases import views
    client = app.test_client()
    sign_in(client, city.chief)
    assert "13 件案件" in page_text(client.get("/cases").text)
    app.config["CASEWORK_LIST_COUNT_LIMIT"] = 5
    # The whole list on one page: nothing to estimate.
    assert "13 件案件" in page_text(client.get("/cases").text)
    monkeypatch.setattr(views, "PER_PAGE", 4)
    assert "约" in page_text(client.get("/cases").text)
    assert "约" in page_text(client.get("/cases?page=2").text)
    assert "13 件案件" in page_text(client.get("/cases?page=4").text)  # the last page


def test_the_last_page_by_number_is_counted_exactly_without_the_limit(city, app):
    app.config["CASEWORK_LIST_COUNT_LIMIT"] = 5
    last = city.api.as_(city.chief).get("/api/v1/cases?per_page=4&page=4").get_json()
    assert (len(last["items"]), last["total"], last["total_is_estimate"]) == (1, 13, False)
    beyond = city.api.as_(city.chief).get("/api/v1/cases?per_page=4&page=5").get_json()
    assert beyond["items"] == [] and beyond["total_is_estimate"] is True


def test_a_search_far_beyond_the_limit_is_estimated_without_counting(city, app):
    """Counting the hits of a common word costs a text comparison per row: a search whose
    planner's estimate is far beyond the limit is answered with the estimate (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no planner's estimate: its searches are counted")
    app.config["CASEWORK_LIST_COUNT_LIMIT"] = 0  # any estimate is ten times beyond it
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sqlalchemy.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        body = city.api.as_(city.chief).get("/api/v1/cases?per_page=2&q=棚").get_json()
    finally:
        sqlalchemy.event.remove(db.engine, "before_cursor_execute", listener)
    assert body["total_is_estimate"] is True and body["total"] >= 1
    assert not [s for s in statements if "count(" in s.lower()], "nothing was counted"
    found = city.walk(city.chief, "/api/v1/cases", "q=棚", per_page=2)
    assert found and all("棚" in " ".join([c["address"], c["description"],
                                          c["owner_name"] or ""]) for c in found)
