"""Work orders (spec section 4): the lifecycle through the API with the right roles, every
refusal and that it changes nothing, what a company may see, and the case's close waiting for
its work orders."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from casework import clock
from casework.accounts.models import User
from casework.cases.models import Case
from casework.evidence import samples
from casework.extensions import db
from casework.workorders.models import WorkOrder
from tests.support import Api

OWNER = {"owner_name": "演示户主丙", "owner_phone": "000-0000-0003",
         "owner_id_number": "000000000000000003"}
OPEN_STATES = ["assigned", "accepted", "completed", "rejected"]


def day(days_from_today: int) -> str:
    return (clock.local_today() + timedelta(days=days_from_today)).isoformat()


@dataclass
class Site:
    api: Api
    compound: object
    officer: User
    supervisor: User
    stranger: User  # an officer of another zone
    company: User  # a user of company 甲
    rival: User  # a user of company 乙
    case: dict

    def as_(self, user: User) -> Api:
        return self.api.as_(user)

    def issue(self, company: User | None = None, case_id: int | None = None, **fields) -> dict:
        body = {"company_id": (company or self.company).company_id, "kind": "clear_debris",
                "due_date": day(7), **fields}
        r = self.as_(self.officer).post(f"/api/v1/cases/{case_id or self.case['id']}/workorders",
                                        json=body)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def order(self, order_id: int, user: User | None = None) -> dict:
        r = self.as_(user or self.officer).get(f"/api/v1/workorders/{order_id}")
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def fire(self, user: User, order_id: int, trigger: str, **fields):
        fields.setdefault("expected_version", self.order(order_id)["version"])
        return self.as_(user).post(f"/api/v1/workorders/{order_id}/transitions",
                                   json={"trigger": trigger, **fields})

    def step(self, user: User, order_id: int, trigger: str, **fields) -> dict:
        r = self.fire(user, order_id, trigger, **fields)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def photo(self, user: User, order_id: int, kind: str = "after_photo",
              data: bytes | None = None):
        data = data if data is not None else samples.png(f"order-{order_id}-{kind}")
        return self.as_(user).post(f"/api/v1/workorders/{order_id}/attachments",
                                   data={"kind": kind, "file": (io.BytesIO(data), "p.png")},
                                   content_type="multipart/form-data")

    def events(self, case_id: int | None = None) -> list[dict]:
        r = self.as_(self.supervisor).get(f"/api/v1/cases/{case_id or self.case['id']}/events")
        return r.get_json()["items"]

    def brought_to(self, state: str) -> dict:
        """A new work order walked to ``state`` along the lifecycle."""
        order = self.issue()
        walk = {"assigned": [], "accepted": ["accept"], "completed": ["accept", "complete"],
                "rejected": ["accept", "complete", "reject"],
                "verified": ["accept", "complete", "verify"]}[state]
        for trigger in walk:
            if trigger == "complete":
                assert self.photo(self.company, order["id"]).status_code == 201
            user = self.company if trigger in ("accept", "complete") else self.officer
            order = self.step(user, order["id"], trigger, note="返工" if trigger == "reject" else "")
        assert order["state"] == state
        return order

    def refused(self, user: User, order_id: int, trigger: str, status: int, code: str,
                **fields) -> dict:
        before = self.order(order_id), self.events()
        r = self.fire(user, order_id, trigger, **fields)
        assert r.status_code == status, r.get_json()
        assert r.get_json()["error"]["code"] == code
        assert (self.order(order_id), self.events()) == before, "a refusal changed something"
        return r.get_json()["error"]


@pytest.fixture
def site(api, make) -> Site:
    zone = make.zone()
    compound = make.compound(zone)
    officer = make.user("officer", [zone])
    case = api.as_(officer).create_case(compound, address="幸福路3号", **OWNER)
    for kind in ("before_photo", "ownership_doc", "agreement"):
        assert api.as_(officer).attach(case["id"], kind).status_code == 201
    return Site(api, compound, officer, make.user("supervisor", [zone]),
                make.user("officer", [make.zone()]), make.user("company", company="测试物业甲"),
                make.user("company", company="测试物业乙"), case)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


# The lifecycle ----------------------------------------------------------------------------

def test_a_work_order_is_accepted_completed_with_a_photo_and_verified(site):
    order = site.issue(kind="restore_site", note="恢复场地")
    assert (order["state"], order["case_id"], order["case_ref"], order["kind"]) == (
        "assigned", site.case["id"], site.case["ref"], "restore_site")
    assert order["company_id"] == site.company.company_id
    assert order["allowed_triggers"] == ["cancel"]
    assert site.order(order["id"], site.company)["allowed_triggers"] == ["accept"]

    accepted = site.step(site.company, order["id"], "accept")
    assert accepted["state"] == "accepted" and accepted["version"] == order["version"] + 1
    assert accepted["allowed_triggers"] == ["complete"]
    assert site.photo(site.company, order["id"]).status_code == 201
    completed = site.step(site.company, order["id"], "complete", note="已完成")
    assert completed["state"] == "completed"
    assert site.order(order["id"])["allowed_triggers"] == ["verify", "reject", "cancel"]
    verified = site.step(site.officer, order["id"], "verify", note="合格")
    assert verified["state"] == "verified" and verified["allowed_triggers"] == []
    assert site.order(order["id"], site.company)["state"] == "verified"


def test_a_rejected_work_order_is_reworked_then_verified(site):
    order = site.brought_to("completed")
    rejected = site.step(site.supervisor, order["id"], "reject", note="垃圾未清运干净")
    assert rejected["state"] == "rejected"
    assert site.order(order["id"], site.company)["allowed_triggers"] == ["accept"]
    assert site.step(site.company, order["id"], "accept")["state"] == "accepted"
    assert site.photo(site.company, order["id"]).status_code == 201
    assert site.step(site.company, order["id"], "complete")["state"] == "completed"
    assert site.step(site.officer, order["id"], "verify")["state"] == "verified"


@pytest.mark.parametrize("state", OPEN_STATES)
def test_an_officer_or_supervisor_cancels_a_work_order_from_any_open_state(site, state):
    order = site.brought_to(state)
    for user in (site.officer, site.supervisor):
        assert "cancel" in site.order(order["id"], user)["allowed_triggers"]
    cancelled = site.step(site.supervisor, order["id"], "cancel", note="无需处理")
    assert cancelled["state"] == "cancelled" and cancelled["allowed_triggers"] == []


# Refusals ---------------------------------------------------------------------------------

def test_a_trigger_not_valid_from_the_state_is_refused_with_the_triggers_that_are(site):
    order = site.issue()
    error = site.refused(site.company, order["id"], "complete", 409, "invalid_transition")
    assert error["details"]["allowed_triggers"] == ["accept"]
    error = site.refused(site.officer, order["id"], "verify", 409, "invalid_transition")
    assert error["details"]["allowed_triggers"] == ["cancel"]
    verified = site.brought_to("verified")
    for trigger in ("cancel", "reject", "verify"):
        error = site.refused(site.officer, verified["id"], trigger, 409, "invalid_transition",
                             note="说明")
        assert error["details"]["allowed_triggers"] == []


def test_a_stale_version_is_refused_and_changes_nothing(site):
    order = site.issue()
    site.step(site.company, order["id"], "accept")
    site.refused(site.officer, order["id"], "cancel", 409, "stale_version",
                 expected_version=order["version"], note="取消")


def test_a_company_cannot_verify_and_an_officer_cannot_accept(site):
    assigned = site.issue()
    site.refused(site.officer, assigned["id"], "accept", 403, "forbidden")
    site.refused(site.supervisor, assigned["id"], "accept", 403, "forbidden")
    completed = site.brought_to("completed")
    site.refused(site.company, completed["id"], "verify", 403, "forbidden")
    site.refused(site.company, completed["id"], "reject", 403, "forbidden", note="x")
    site.refused(site.company, completed["id"], "cancel", 403, "forbidden", note="x")


def test_complete_needs_a_photo_on_the_work_order_itself(site):
    order = site.issue()
    site.step(site.company, order["id"], "accept")
    # The case's own before_photo and a PDF on the order are not a photo of the finished work.
    assert site.photo(site.company, order["id"], "other", samples.pdf("receipt")).status_code == 201
    error = site.refused(site.company, order["id"], "complete", 422, "guard_failed")
    assert [d["rule"] for d in error["details"]] == ["photo_required"]


@pytest.mark.parametrize("trigger", ["reject", "cancel"])
def test_reject_and_cancel_need_a_note(site, trigger):
    order = site.brought_to("completed")
    for note in ("", "   "):
        error = site.refused(site.officer, order["id"], trigger, 422, "guard_failed", note=note)
        assert [d["rule"] for d in error["details"]] == ["note_required"]


def test_issuing_refuses_an_unknown_company_and_a_due_date_out_of_range(site):
    url = f"/api/v1/cases/{site.case['id']}/workorders"
    before = site.events()

    def problems(**fields) -> set[tuple[str, str]]:
        body = {"company_id": site.company.company_id, "kind": "post_notice",
                "due_date": day(7), **fields}
        r = site.as_(site.officer).post(url, json=body)
        assert r.status_code == 422, r.get_json()
        return {(d["field"], d["rule"]) for d in r.get_json()["error"]["details"]}

    assert problems(company_id=999_999) == {("company_id", "exists")}
    assert problems(due_date=day(-1)) == {("due_date", "not_past")}
    assert problems(due_date=day(91)) == {("due_date", "within_limit")}
    assert problems(company_id=999_999, due_date=day(-3)) == {
        ("company_id", "exists"), ("due_date", "not_past")}
    assert ("kind", "enum") in problems(kind="paint_wall")
    assert ids(site.as_(site.officer).get("/api/v1/workorders")) == []
    assert site.events() == before
    assert site.issue(due_date=day(90))["state"] == "assigned"


def test_only_officers_and_supervisors_of_the_zone_issue_work_orders(site):
    url = f"/api/v1/cases/{site.case['id']}/workorders"
    body = {"company_id": site.company.company_id, "kind": "post_notice", "due_date": day(3)}
    assert site.as_(site.company).post(url, json=body).status_code == 404
    assert site.as_(site.stranger).post(url, json=body).status_code == 404
    assert site.as_(site.supervisor).post(url, json=body).status_code == 201


# Seeing work orders -----------------------------------------------------------------------

def test_a_company_sees_only_its_own_work_orders(site):
    ours, theirs = site.issue(), site.issue(company=site.rival, kind="restore_site")
    assert ids(site.as_(site.company).get("/api/v1/workorders")) == [ours["id"]]
    assert ids(site.as_(site.rival).get("/api/v1/workorders")) == [theirs["id"]]
    assert ids(site.as_(site.company).get(
        f"/api/v1/workorders?company={site.rival.company_id}")) == []
    assert sorted(ids(site.as_(site.officer).get("/api/v1/workorders"))) == sorted(
        [ours["id"], theirs["id"]])
    rival = site.as_(site.rival)
    assert rival.get(f"/api/v1/workorders/{ours['id']}").status_code == 404
    assert rival.get(f"/api/v1/workorders/{ours['id']}/attachments").status_code == 404
    assert site.photo(site.rival, ours["id"]).status_code == 404
    r = rival.post(f"/api/v1/workorders/{ours['id']}/transitions",
                   json={"trigger": "accept", "expected_version": ours["version"]})
    assert r.status_code == 404
    assert site.order(ours["id"])["state"] == "assigned"


def test_an_officer_of_another_zone_gets_404_on_the_work_order(site):
    order = site.issue()
    stranger = site.as_(site.stranger)
    assert ids(stranger.get("/api/v1/workorders")) == []
    assert stranger.get(f"/api/v1/workorders/{order['id']}").status_code == 404
    assert stranger.get(f"/api/v1/workorders/{order['id']}/attachments").status_code == 404
    r = stranger.post(f"/api/v1/workorders/{order['id']}/transitions",
                      json={"trigger": "cancel", "expected_version": order["version"],
                            "note": "x"})
    assert r.status_code == 404
    assert site.order(order["id"])["state"] == "assigned"


def test_a_company_user_gets_404_on_every_case_endpoint(site):
    site.issue()
    case_id, version = site.case["id"], site.case["version"]
    reads = [f"/api/v1/cases/{case_id}", f"/api/v1/cases/{case_id}/events",
             f"/api/v1/cases/{case_id}/attachments", f"/api/v1/cases/{case_id}/attachments/1"]
    for url in reads:
        assert site.as_(site.officer).get(url).status_code == 200, url
        assert site.as_(site.company).get(url).status_code == 404, url
    company = site.as_(site.company)
    assert company.attach(case_id, "after_photo").status_code == 404
    assert company.patch(f"/api/v1/cases/{case_id}",
                         json={"expected_version": version, "description": "x"}).status_code == 404
    assert company.post(f"/api/v1/cases/{case_id}/transitions",
                        json={"trigger": "verify_ownership",
                              "expected_version": version}).status_code == 404
    assert len(site.events()) == 5  # create, three attachments, the work order


def test_a_company_user_is_refused_the_case_list_and_case_creation(site):
    """No id is involved, so the role refusal (403) reveals nothing; cases by id answer 404."""
    assert site.as_(site.company).get("/api/v1/cases").status_code == 403
    r = site.as_(site.company).post("/api/v1/cases",
                                    json={"kind": "shed", "compound_id": site.compound.id})
    assert r.status_code == 403


def test_a_company_never_sees_another_companys_work_order_files(site):
    ours, theirs = site.issue(), site.issue(company=site.rival)
    their_photo = site.photo(site.rival, theirs["id"]).get_json()
    our_photo = site.photo(site.company, ours["id"]).get_json()
    listed = site.as_(site.company).get(f"/api/v1/workorders/{ours['id']}/attachments")
    assert [a["id"] for a in listed.get_json()["items"] if a["kind"] == "after_photo"] == [
        our_photo["id"]]
    path = f"/api/v1/workorders/{ours['id']}/attachments/{their_photo['id']}"
    assert site.as_(site.company).get(path).status_code == 404
    path = f"/api/v1/workorders/{theirs['id']}/attachments/{our_photo['id']}"
    assert site.as_(site.rival).get(path).status_code == 404


def test_a_company_never_sees_the_owners_data_nor_ownership_documents(site):
    order = site.issue()
    site.step(site.company, order["id"], "accept")
    own = site.photo(site.company, order["id"]).get_json()
    case_photos = site.as_(site.officer).get(f"/api/v1/cases/{site.case['id']}/attachments")
    by_kind = {a["kind"]: a["id"] for a in case_photos.get_json()["items"]}
    assert site.as_(site.officer).attach(site.case["id"], "after_photo").status_code == 201
    company = site.as_(site.company)
    responses = [company.get(f"/api/v1/workorders/{order['id']}"),
                 company.get("/api/v1/workorders"),
                 site.as_(site.officer).get(f"/api/v1/workorders/{order['id']}"),
                 company.get(f"/api/v1/workorders/{order['id']}/attachments")]
    for r in responses:
        text = r.get_data(as_text=True)
        assert r.status_code == 200
        assert not [v for v in OWNER.values() if v in text], text
        assert not [k for k in OWNER if k in text], text
    listed = responses[-1].get_json()["items"]
    assert sorted(a["kind"] for a in listed) == ["after_photo", "after_photo", "before_photo"]
    assert own["id"] in [a["id"] for a in listed]
    url = f"/api/v1/workorders/{order['id']}/attachments"
    photo = company.get(f"{url}/{by_kind['before_photo']}")
    assert photo.status_code == 200 and photo.data.startswith(b"\x89PNG")
    for kind in ("ownership_doc", "agreement"):
        assert company.get(f"{url}/{by_kind[kind]}").status_code == 404


# The case and its work orders ---------------------------------------------------------------

def test_close_waits_until_every_work_order_is_verified_or_cancelled(site):
    officer, supervisor, case_id = site.officer, site.supervisor, site.case["id"]
    done, dropped = site.brought_to("completed"), site.issue(kind="post_notice")
    site.as_(officer).fire(case_id, "verify_ownership")
    site.as_(officer).fire(case_id, "negotiate", deadline=day(10))
    site.as_(officer).attach(case_id, "after_photo")
    assert site.as_(officer).fire(case_id, "demolish", method="self").status_code == 200
    before = site.events()
    r = site.as_(supervisor).fire(case_id, "close", note="验收合格")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "guard_failed"
    assert [d["rule"] for d in r.get_json()["error"]["details"]] == ["workorders_finished"]
    r = site.as_(supervisor).fire(case_id, "close")
    assert {d["rule"] for d in r.get_json()["error"]["details"]} == {
        "inspection_note", "workorders_finished"}
    assert site.events() == before
    site.step(officer, done["id"], "verify")
    r = site.as_(supervisor).fire(case_id, "close", note="验收合格")
    assert [d["rule"] for d in r.get_json()["error"]["details"]] == ["workorders_finished"]
    site.step(supervisor, dropped["id"], "cancel", note="业主已自行张贴")
    r = site.as_(supervisor).fire(case_id, "close", note="验收合格")
    assert r.status_code == 200 and r.get_json()["state"] == "closed"
    r = site.as_(officer).post(f"/api/v1/cases/{case_id}/workorders",
                               json={"company_id": site.company.company_id,
                                     "kind": "restore_site", "due_date": day(5)})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "case_final"
    assert ids(site.as_(officer).get(f"/api/v1/workorders?case={case_id}")) == [
        dropped["id"], done["id"]]


def test_every_work_order_step_is_written_into_the_case_history(site):
    order = site.brought_to("rejected")
    site.step(site.company, order["id"], "accept")
    site.step(site.company, order["id"], "complete")
    site.step(site.officer, order["id"], "verify")
    steps = [e for e in site.events() if e["data"].get("workorder_id") == order["id"]]
    assert [e["trigger"] for e in steps] == [
        "workorder_create", "workorder_accept", "attach", "workorder_complete",
        "workorder_reject", "workorder_accept", "workorder_complete", "workorder_verify"]
    assert [e["role"] for e in steps] == ["officer", "company", "company", "company", "officer",
                                          "company", "company", "officer"]
    assert {(e["from_state"], e["to_state"]) for e in steps} == {("identified", "identified")}
    assert steps[4]["note"] == "返工"
    assert site.as_(site.supervisor).get(
        f"/api/v1/cases/{site.case['id']}").get_json()["state"] == "identified"


def test_the_list_filters_by_state_case_company_kind_and_overdue_and_pages(site):
    other_case = site.as_(site.officer).create_case(site.compound)
    a = site.brought_to("accepted")
    b = site.issue(kind="post_notice")
    c = site.issue(company=site.rival, case_id=other_case["id"], kind="restore_site")
    db.session.execute(update(WorkOrder).where(WorkOrder.id == b["id"])
                       .values(due_at=clock.now() - timedelta(hours=1))
                       .execution_options(synchronize_session=False))
    db.session.commit()
    officer = site.as_(site.officer)

    def listed(query: str) -> list[int]:
        return ids(officer.get(f"/api/v1/workorders?{query}"))

    assert listed("state=accepted") == [a["id"]]
    assert listed(f"case={other_case['id']}") == [c["id"]]
    assert listed(f"company={site.company.company_id}") == [b["id"], a["id"]]
    assert listed("kind=post_notice") == [b["id"]]
    assert listed("overdue=true") == [b["id"]]
    assert site.order(b["id"])["overdue"] is True
    assert listed("overdue=false") == [c["id"], a["id"]]
    page = officer.get("/api/v1/workorders?per_page=2&page=2").get_json()
    assert (page["total"], page["page"], page["per_page"]) == (3, 2, 2)
    assert [o["id"] for o in page["items"]] == [a["id"]]
    r = officer.get("/api/v1/workorders?state=done")
    assert r.status_code == 422, json.dumps(r.get_json())


def test_a_case_with_open_work_orders_cannot_be_dismissed(site):
    order = site.issue()
    site.as_(site.officer).attach(site.case["id"], "ownership_doc")
    dismiss = {"trigger": "dismiss", "note": "合法建筑",
               "expected_version": site.as_(site.supervisor).get(
                   f"/api/v1/cases/{site.case['id']}").get_json()["version"]}
    r = site.as_(site.supervisor).post(f"/api/v1/cases/{site.case['id']}/transitions", json=dismiss)
    assert r.status_code == 422
    assert [d["rule"] for d in r.get_json()["error"]["details"]] == ["workorders_finished"]
    site.step(site.supervisor, order["id"], "cancel", note="案件撤销")
    r = site.as_(site.supervisor).post(f"/api/v1/cases/{site.case['id']}/transitions", json=dismiss)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "dismissed"


def test_a_work_order_of_a_final_case_can_only_be_cancelled(site):
    order = site.issue()
    db.session.execute(update(WorkOrder).where(WorkOrder.id == order["id"]).values(state="verified"))
    db.session.commit()
    other = site.issue()
    # The case is closed behind the API's back, as after a close with this order verified.
    db.session.execute(update(Case).where(Case.id == site.case["id"]).values(state="closed"))
    db.session.commit()
    r = site.fire(site.company, other["id"], "accept")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "case_final"
    assert site.step(site.officer, other["id"], "cancel", note="已结案")["state"] == "cancelled"


def test_a_work_order_takes_only_photos_and_other_files_while_open(site):
    """Documents that name the owner belong on the case, which a company never sees: not even
    an officer can put one on a work order."""
    order = site.issue()
    for user in (site.company, site.officer):
        for kind in ("ownership_doc", "agreement", "notice"):
            r = site.photo(user, order["id"], kind=kind)
            assert r.status_code == 422, kind
            assert r.get_json()["error"]["details"][0]["rule"] == "workorder_kinds"
    assert site.photo(site.company, order["id"], kind="before_photo").status_code == 201
    site.step(site.officer, order["id"], "cancel", note="不再需要")
    r = site.photo(site.company, order["id"])
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "workorder_finished"


def test_a_work_order_moves_with_its_case_to_another_zone(site, make):
    order = site.issue()
    other_zone = site.stranger.zones[0]
    chief = make.user("supervisor")  # no zone: the whole district
    case = site.as_(chief).get(f"/api/v1/cases/{site.case['id']}").get_json()
    r = site.as_(chief).patch(f"/api/v1/cases/{case['id']}",
                              json={"compound_id": make.compound(other_zone).id,
                                    "officer_id": site.stranger.id,
                                    "expected_version": case["version"]})
    assert r.status_code == 200, r.get_json()
    assert ids(site.as_(site.stranger).get("/api/v1/workorders")) == [order["id"]]
    assert site.order(order["id"], site.stranger)["state"] == "assigned"
    assert ids(site.as_(site.officer).get("/api/v1/workorders")) == []
    assert site.as_(site.supervisor).get(f"/api/v1/workorders/{order['id']}").status_code == 404


def test_a_case_moved_by_hand_written_sql_takes_its_work_orders_along(site, make):
    first, second = site.issue(), site.issue(kind="post_notice")
    other_zone = site.stranger.zones[0]
    compound = make.compound(other_zone)
    db.session.execute(update(Case).where(Case.id == site.case["id"])
                       .values(compound_id=compound.id, zone_id=other_zone.id))
    db.session.commit()
    moved = db.session.execute(select(WorkOrder.id, WorkOrder.zone_id)
                               .where(WorkOrder.case_id == site.case["id"])
                               .execution_options(populate_existing=True)).all()
    assert sorted(moved) == sorted([(first["id"], other_zone.id), (second["id"], other_zone.id)])
    assert sorted(ids(site.as_(site.stranger).get("/api/v1/workorders"))) == sorted(
        [first["id"], second["id"]])
