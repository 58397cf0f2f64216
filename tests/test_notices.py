"""The deadline notice (限期拆除通知书): previewed without a trace, issued into the case's history
with the hash of the exact HTML the owner received; the work order sheet carries no owner data."""
from __future__ import annotations

import hashlib

import pytest

from tests.support import assert_error, local_day
from tests.web import form_token, page_text, sign_in


@pytest.fixture
def world(api, make):
    compound = make.compound()
    officer = make.user("officer", zones=[compound.zone])
    return compound, officer, api.as_(officer)


def _events(client, case_id: int) -> list[dict]:
    return client.get(f"/api/v1/cases/{case_id}/events").get_json()["items"]


def test_a_preview_carries_owner_deadline_and_reference_and_records_nothing(world):
    compound, _officer, officer = world
    case = officer.case_in(compound, "negotiated", owner_name="王某某", address="3号楼北侧")
    before = _events(officer, case["id"])
    response = officer.get(f"/api/v1/cases/{case['id']}/notice")
    assert response.status_code == 200 and response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    deadline = local_day(10)
    assert "限期拆除通知书" in text and "王某某" in text and case["ref"] in text
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in text
    assert "3号楼北侧" in text and compound.name in text
    assert _events(officer, case["id"]) == before


def test_issuing_records_the_hash_of_the_exact_html_and_a_reprint_records_nothing(world):
    compound, _officer, officer = world
    case = officer.case_in(compound, "negotiated")
    issued = officer.post(f"/api/v1/cases/{case['id']}/notice", json={})
    assert issued.status_code == 201
    digest = hashlib.sha256(issued.get_data()).hexdigest()
    assert issued.headers["X-Notice-SHA256"] == digest
    [event] = [e for e in _events(officer, case["id"]) if e["trigger"] == "notice_issued"]
    assert event["data"]["sha256"] == digest
    assert event["data"]["number"] == f"{case['ref']}-1" == issued.headers["X-Notice-Number"]
    again = officer.post(f"/api/v1/cases/{case['id']}/notice", json={})
    assert again.status_code == 200 and again.get_data() == issued.get_data()
    assert len([e for e in _events(officer, case["id"]) if e["trigger"] == "notice_issued"]) == 1


def test_a_changed_text_is_a_new_notice_with_the_next_number(world):
    compound, _officer, officer = world
    case = officer.case_in(compound, "negotiated", owner_name="李某")
    first = officer.post(f"/api/v1/cases/{case['id']}/notice", json={})
    current = officer.get(f"/api/v1/cases/{case['id']}").get_json()
    officer.patch(f"/api/v1/cases/{case['id']}",
                  json={"expected_version": current["version"], "owner_name": "李某某"})
    second = officer.post(f"/api/v1/cases/{case['id']}/notice", json={})
    assert second.status_code == 201
    assert second.headers["X-Notice-Number"] == f"{case['ref']}-2"
    assert "李某某" in second.get_data(as_text=True)
    assert first.headers["X-Notice-SHA256"] != second.headers["X-Notice-SHA256"]


def test_before_negotiation_the_notice_needs_a_deadline_the_lifecycle_would_accept(world):
    compound, _officer, officer = world
    case = officer.case_in(compound, "ownership_verified")
    path = f"/api/v1/cases/{case['id']}/notice"
    error = assert_error(officer.post(path, json={}), 422, "validation_failed")
    assert [(d["field"], d["rule"]) for d in error["details"]] == [("deadline", "deadline_required")]
    error = assert_error(officer.post(path, json={"deadline": local_day(0).isoformat()}), 422)
    assert error["details"][0]["rule"] == "deadline_in_future"
    error = assert_error(officer.post(path, json={"deadline": local_day(400).isoformat()}), 422)
    assert "90 days" in error["details"][0]["message"]
    assert not [e for e in _events(officer, case["id"]) if e["trigger"] == "notice_issued"]
    ok = officer.post(path, json={"deadline": local_day(15).isoformat()})
    assert ok.status_code == 201
    # The notice then counts as the notice the negotiation's guard asks for only once served:
    # its signed receipt is attached as notice evidence, as any other.


def test_a_negotiated_case_states_only_its_negotiated_deadline(world):
    compound, _officer, officer = world
    case = officer.case_in(compound, "negotiated")
    error = assert_error(officer.post(f"/api/v1/cases/{case['id']}/notice",
                                      json={"deadline": local_day(20).isoformat()}), 422)
    assert error["details"][0]["rule"] == "negotiated_deadline"


def test_no_notice_for_a_case_just_identified(world):
    compound, _officer, officer = world
    case = officer.create_case(compound)
    assert_error(officer.get(f"/api/v1/cases/{case['id']}/notice"), 409, "notice_not_possible")


@pytest.mark.parametrize("who", ["company", "other_zone_officer"])
def test_companies_and_other_zones_never_see_a_notice(world, api, make, who):
    compound, _officer, officer = world
    case = officer.case_in(compound, "negotiated")
    outsider = (make.user("company") if who == "company"
                else make.user("officer", zones=[make.zone()]))
    client = api.as_(outsider)
    assert_error(client.get(f"/api/v1/cases/{case['id']}/notice"), 404)
    assert_error(client.post(f"/api/v1/cases/{case['id']}/notice", json={}), 404)


def test_the_notice_page_issues_once_and_prints(client, world):
    compound, officer_user, officer = world
    case = officer.case_in(compound, "negotiated", owner_name="赵某")
    sign_in(client, officer_user)
    page = client.get(f"/cases/{case['id']}/notice")
    assert page.status_code == 200
    assert "赵某" in page_text(page.text) and "签发并打印" in page_text(page.text)
    assert "'sha256-" in page.headers["Content-Security-Policy"]
    refused = client.post(f"/cases/{case['id']}/notice", data={})
    assert refused.status_code == 400
    assert not [e for e in _events(officer, case["id"]) if e["trigger"] == "notice_issued"]
    issued = client.post(f"/cases/{case['id']}/notice",
                         data={"csrf_token": form_token(page.text)})
    assert issued.status_code == 303
    printed = client.get(issued.headers["Location"])
    assert "已签发" in page_text(printed.text)
    [event] = [e for e in _events(officer, case["id"]) if e["trigger"] == "notice_issued"]
    api_copy = officer.get(f"/api/v1/cases/{case['id']}/notice")
    assert event["data"]["sha256"] == hashlib.sha256(api_copy.get_data()).hexdigest()


def test_a_company_prints_its_work_order_sheet_without_owner_data(client, api, make, world):
    compound, _officer_user, officer = world
    case = officer.case_in(compound, "negotiated", owner_name="钱某", owner_phone="13800000000")
    company_user = make.user("company", company="示例物业")
    order = officer.post(f"/api/v1/cases/{case['id']}/workorders",
                         json={"company_id": company_user.company_id, "kind": "clear_debris",
                               "note": "清运北侧堆放物", "due_date": local_day(5).isoformat()})
    assert order.status_code == 201, order.get_json()
    sign_in(client, company_user)
    sheet = client.get(f"/workorders/{order.get_json()['id']}/sheet")
    assert sheet.status_code == 200
    text = page_text(sheet.text)
    assert "清运北侧堆放物" in text and "示例物业" in text and case["ref"] in text
    assert "钱某" not in text and "13800000000" not in text
    assert client.get(f"/cases/{case['id']}/notice").status_code == 404
