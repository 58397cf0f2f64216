"""The in-app inbox (spec sections 6 and 9): who is told of a case transition or a new work
order, in their own language, and never the one who acted; marking read, filters, paging; and
that a refused request tells no one, because nothing changed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from casework import clock
from casework.accounts.models import User
from casework.extensions import db
from tests.support import Api

OWNER = {"owner_name": "演示户主丁", "owner_phone": "000-0000-0004",
         "owner_id_number": "000000000000000004"}


def day(days_from_today: int) -> str:
    return (clock.local_today() + timedelta(days=days_from_today)).isoformat()


@dataclass
class Office:
    api: Api
    compound: object
    officer: User
    supervisors: list[User]  # the zone's two supervisors
    outsiders: list[User]  # a supervisor of another zone and one of the whole district
    company: list[User]  # two users of company 甲
    rival: User  # a user of company 乙

    def as_(self, user: User) -> Api:
        return self.api.as_(user)

    def inbox(self, user: User, query: str = "") -> dict:
        r = self.as_(user).get(f"/api/v1/notifications?{query}")
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def items(self, user: User, query: str = "") -> list[dict]:
        return self.inbox(user, query)["items"]

    def case(self) -> dict:
        return self.as_(self.officer).create_case(self.compound, address="和平路4号", **OWNER)

    def fire(self, user: User, case_id: int, trigger: str, **fields) -> dict:
        r = self.as_(user).fire(case_id, trigger, **fields)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def verified(self) -> dict:
        case = self.case()
        for kind in ("ownership_doc", "agreement"):
            assert self.as_(self.officer).attach(case["id"], kind).status_code == 201
        return self.fire(self.officer, case["id"], "verify_ownership")

    def issue(self, case_id: int, company: User | None = None, **fields):
        body = {"company_id": (company or self.company[0]).company_id, "kind": "clear_debris",
                "due_date": day(5), **fields}
        return self.as_(self.officer).post(f"/api/v1/cases/{case_id}/workorders", json=body)


@pytest.fixture
def office(api, make) -> Office:
    zone = make.zone()
    return Office(api, make.compound(zone), make.user("officer", [zone]),
                  [make.user("supervisor", [zone]), make.user("supervisor", [zone])],
                  [make.user("supervisor", [make.zone()]), make.user("supervisor")],
                  [make.user("company", company="测试物业甲") for _ in range(2)],
                  make.user("company", company="测试物业乙"))


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()


def test_a_case_transition_tells_the_officer_but_not_the_one_who_acted(office):
    case = office.verified()  # fired by the officer: nobody else is told of verify_ownership
    everyone = [office.officer, *office.supervisors, *office.outsiders, *office.company]
    assert [office.inbox(u)["total"] for u in everyone] == [0] * len(everyone)
    boss = office.supervisors[0]
    office.fire(boss, case["id"], "negotiate", deadline=day(10), note="已送达告知书")
    [note] = office.items(office.officer)
    assert (note["kind"], note["case_id"], note["workorder_id"], note["read_at"]) == (
        "transition", case["id"], None, None)
    assert note["subject"] == f"[{case['ref']}] 协商/告知：产权已核实 → 已协商/已告知"
    assert "已送达告知书" in note["body"] and "和平路4号" in note["body"]
    assert [office.inbox(u)["total"] for u in everyone[1:]] == [0] * (len(everyone) - 1)


@pytest.mark.parametrize("trigger", ["dispute", "demolish"])
def test_dispute_and_demolish_also_tell_the_zones_supervisors(office, trigger):
    case = office.verified()
    if trigger == "demolish":
        office.fire(office.officer, case["id"], "negotiate", deadline=day(10))
        assert office.as_(office.officer).attach(case["id"], "after_photo").status_code == 201
    fields = {"method": "self"} if trigger == "demolish" else {"note": "户主有异议"}
    office.fire(office.officer, case["id"], trigger, **fields)
    for boss in office.supervisors:
        [note] = office.items(boss)
        assert (note["kind"], note["case_id"]) == ("transition", case["id"])
        assert case["ref"] in note["subject"]
    assert office.inbox(office.officer)["total"] == 0  # the officer acted
    assert [office.inbox(u)["total"] for u in office.outsiders] == [0, 0]


def test_the_officer_is_told_when_a_supervisor_acts_on_a_dispute(office):
    case = office.verified()
    office.fire(office.supervisors[0], case["id"], "dispute", note="产权有争议")
    assert [n["kind"] for n in office.items(office.officer)] == ["transition"]
    assert office.inbox(office.supervisors[0])["total"] == 0
    assert office.inbox(office.supervisors[1])["total"] == 1


def test_each_user_is_told_in_their_own_language(office):
    set_locale(office.officer, "en")
    set_locale(office.company[1], "en")
    case = office.verified()
    office.fire(office.supervisors[0], case["id"], "negotiate", deadline=day(10))
    [note] = office.items(office.officer)
    assert note["subject"] == f"[{case['ref']}] negotiate: ownership_verified → negotiated"
    order = office.issue(case["id"]).get_json()
    zh, en = (office.items(u)[0] for u in office.company)
    assert zh["subject"] == f"新工单 #{order['id']}：清运垃圾（{case['ref']}）"
    assert en["subject"] == f"New work order #{order['id']}: clear_debris ({case['ref']})"
    assert "please handle" in en["body"] and "请处理" in zh["body"]


def test_a_new_work_order_tells_every_user_of_that_company_and_no_one_else(office):
    case = office.case()
    r = office.issue(case["id"], note="请三日内清运")
    assert r.status_code == 201, r.get_json()
    order = r.get_json()
    for user in office.company:
        [note] = office.items(user)
        assert (note["kind"], note["case_id"], note["workorder_id"]) == (
            "workorder_assigned", case["id"], order["id"])
        assert "请三日内清运" in note["body"] and "和平路4号" in note["body"]
        text = note["subject"] + note["body"]
        assert not [v for v in OWNER.values() if v in text]
    others = [office.officer, office.rival, *office.supervisors, *office.outsiders]
    assert [office.inbox(u)["total"] for u in others] == [0] * len(others)


def test_work_order_steps_tell_the_other_side(office):
    case = office.case()
    order = office.issue(case["id"]).get_json()
    r = office.as_(office.company[0]).post(f"/api/v1/workorders/{order['id']}/transitions",
                                           json={"trigger": "accept", "expected_version": 1})
    assert r.status_code == 200, r.get_json()
    [note] = office.items(office.officer)
    assert (note["kind"], note["workorder_id"], note["case_id"]) == (
        "transition", order["id"], case["id"])
    r = office.as_(office.officer).post(f"/api/v1/workorders/{order['id']}/transitions",
                                        json={"trigger": "cancel", "expected_version": 2,
                                              "note": "不再需要"})
    assert r.status_code == 200, r.get_json()
    for user in office.company:
        assert [n["kind"] for n in office.items(user)] == ["transition", "workorder_assigned"]
    assert office.inbox(office.rival)["total"] == 0


def test_a_refused_request_tells_no_one(office):
    case = office.verified()
    bosses = office.supervisors
    r = office.as_(office.officer).fire(case["id"], "dispute", note="")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "guard_failed"
    r = office.as_(office.officer).fire(case["id"], "dispute", note="异议",
                                        expected_version=case["version"] - 1)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "stale_version"
    r = office.as_(bosses[0]).fire(case["id"], "close", note="验收")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "invalid_transition"
    assert office.issue(case["id"], due_date=day(-1)).status_code == 422
    assert office.issue(case["id"], company_id=999_999).status_code == 422
    order = office.issue(case["id"]).get_json()
    r = office.as_(office.company[0]).post(f"/api/v1/workorders/{order['id']}/transitions",
                                           json={"trigger": "complete", "expected_version": 1})
    assert r.status_code == 409
    everyone = [office.officer, *bosses, *office.outsiders, office.rival]
    assert [office.inbox(u)["total"] for u in everyone] == [0] * len(everyone)
    assert [office.inbox(u)["total"] for u in office.company] == [1, 1]  # the one issued


def test_marking_one_read_is_for_its_owner_only(office):
    case = office.case()
    office.issue(case["id"])
    mine, theirs = (office.items(u)[0] for u in office.company)
    first, other = office.as_(office.company[0]), office.as_(office.company[1])
    assert first.post(f"/api/v1/notifications/{theirs['id']}/read").status_code == 404
    assert first.post("/api/v1/notifications/999999/read").status_code == 404
    assert office.items(office.company[1])[0]["read_at"] is None
    r = first.post(f"/api/v1/notifications/{mine['id']}/read")
    assert r.status_code == 200 and r.get_json()["id"] == mine["id"]
    read_at = r.get_json()["read_at"]
    assert read_at is not None
    again = first.post(f"/api/v1/notifications/{mine['id']}/read").get_json()
    assert again["read_at"] == read_at  # marking twice keeps the first time
    assert office.inbox(office.company[0], "unread=true")["total"] == 0
    assert [n["id"] for n in office.items(office.company[0], "unread=false")] == [mine["id"]]
    assert other.get("/api/v1/notifications?unread=true").get_json()["total"] == 1


def test_mark_all_read_marks_only_the_users_own_unread_notifications(office):
    case = office.case()
    for _ in range(3):
        assert office.issue(case["id"]).status_code == 201
    first = office.as_(office.company[0])
    one = office.items(office.company[0])[-1]
    first.post(f"/api/v1/notifications/{one['id']}/read")
    r = first.post("/api/v1/notifications/read")
    assert r.status_code == 200 and r.get_json() == {"marked": 2}
    assert office.inbox(office.company[0], "unread=true")["total"] == 0
    assert office.inbox(office.company[0], "unread=false")["total"] == 3
    assert office.inbox(office.company[1], "unread=true")["total"] == 3
    assert first.post("/api/v1/notifications/read").get_json() == {"marked": 0}


def test_the_inbox_pages_newest_first_and_filters_by_kind(office):
    case = office.case()
    orders = [office.issue(case["id"]).get_json() for _ in range(3)]
    office.as_(office.officer).post(f"/api/v1/workorders/{orders[0]['id']}/transitions",
                                    json={"trigger": "cancel", "expected_version": 1,
                                          "note": "重复派单"})
    user = office.company[0]
    page1 = office.inbox(user, "per_page=2&page=1")
    page2 = office.inbox(user, "per_page=2&page=2")
    assert (page1["total"], page1["page"], page1["per_page"], page2["page"]) == (4, 1, 2, 2)
    newest_first = [(n["kind"], n["workorder_id"]) for n in page1["items"] + page2["items"]]
    assert newest_first == [("transition", orders[0]["id"])] + [
        ("workorder_assigned", o["id"]) for o in reversed(orders)]
    assert office.inbox(user, "per_page=2&page=3")["items"] == []
    assigned = office.inbox(user, "kind=workorder_assigned")
    assert assigned["total"] == 3
    assert {n["kind"] for n in assigned["items"]} == {"workorder_assigned"}
    assert office.inbox(user, "kind=digest")["total"] == 0
    for bad in ("kind=gossip", "per_page=0", "unread=maybe"):
        r = office.as_(user).get(f"/api/v1/notifications?{bad}")
        assert r.status_code == 422, bad


def test_the_inbox_needs_a_login(client):
    r = client.get("/api/v1/notifications")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert client.post("/api/v1/notifications/read").status_code == 401
