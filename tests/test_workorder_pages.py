"""The work-order pages (spec sections 4 and 14): a company's worklist, open first with the
overdue marked; accepting and completing with photos through the forms; a refusal beside its
field that changes nothing; rework with the officer's reason; never an owner's personal data;
the 404 page for what is not the user's; issuing from the case page."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import render_template
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from casework import clock
from casework.accounts.models import User
from casework.evidence import samples
from casework.evidence.models import Attachment
from casework.extensions import db
from casework.workorders.models import WorkOrder
from tests.support import Api, local_day
from tests.web import form_token, page_text, sign_in

OWNER = {"owner_name": "演示户主丙", "owner_phone": "13900000003",
         "owner_id_number": "110101199001010033"}


@dataclass
class Site:
    app: object
    api: Api
    officer: User
    company: User
    rival: User
    case: dict

    def issue(self, company: User | None = None, days: int = 7, **fields) -> dict:
        body = {"company_id": (company or self.company).company_id, "kind": "clear_debris",
                "due_date": local_day(days).isoformat(), **fields}
        r = self.api.as_(self.officer).post(f"/api/v1/cases/{self.case['id']}/workorders",
                                            json=body)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def order(self, order_id: int) -> dict:
        return self.api.as_(self.officer).get(f"/api/v1/workorders/{order_id}").get_json()

    def step(self, user: User, order_id: int, trigger: str, note: str = "") -> dict:
        r = self.api.as_(user).post(f"/api/v1/workorders/{order_id}/transitions", json={
            "trigger": trigger, "expected_version": self.order(order_id)["version"],
            "note": note})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def photo(self, user: User, order_id: int) -> None:
        r = self.api.as_(user).post(f"/api/v1/workorders/{order_id}/attachments",
                                    data={"kind": "after_photo",
                                          "file": (io.BytesIO(samples.png(f"o{order_id}")),
                                                   "p.png")},
                                    content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()

    def page_client(self, user: User, lang: str | None = None) -> FlaskClient:
        client = self.app.test_client()
        sign_in(client, user, lang=lang)
        return client


@pytest.fixture
def site(app, api, make) -> Site:
    zone = make.zone()
    compound = make.compound(zone)
    officer = make.user("officer", [zone])
    case = api.as_(officer).create_case(compound, address="幸福路3号", **OWNER)
    assert api.as_(officer).attach(case["id"], "before_photo").status_code == 201
    return Site(app, api, officer, make.user("company", company="测试物业甲"),
                make.user("company", company="测试物业乙"), case)


def photo_count(order_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Attachment)
                             .where(Attachment.workorder_id == order_id))


def make_overdue(order_id: int) -> None:
    db.session.execute(update(WorkOrder).where(WorkOrder.id == order_id)
                       .values(due_at=clock.now() - timedelta(days=1))
                       .execution_options(synchronize_session=False))
    db.session.commit()


def positions(html: str, order_ids: list[int]) -> list[int]:
    return [html.index(f'href="/workorders/{i}"') for i in order_ids]


def test_the_company_sees_its_own_orders_open_first_the_overdue_first_and_marked(site):
    later = site.issue(days=9)
    sooner = site.issue(days=2)
    done = site.issue(days=1)
    site.step(site.company, done["id"], "accept")
    site.photo(site.company, done["id"])
    site.step(site.company, done["id"], "complete")
    late = site.issue(days=5)
    make_overdue(late["id"])
    others = site.issue(site.rival)

    page = site.page_client(site.company).get("/workorders")
    assert page.status_code == 200
    html = page.text
    order = positions(html, [late["id"], sooner["id"], later["id"], done["id"]])
    assert order == sorted(order), "open first, soonest due first, awaiting verification last"
    assert f'href="/workorders/{others["id"]}"' not in html
    late_item = html[order[0]:order[1]]
    assert "已超期" in page_text(late_item)
    assert "已超期" not in page_text(html[order[1]:])
    assert "共 4 个工单" in page_text(html)


def test_the_list_keeps_its_filters_in_the_address(site):
    accepted = site.issue()
    site.step(site.company, accepted["id"], "accept")
    assigned = site.issue()
    client = site.page_client(site.company)
    html = client.get("/workorders?state=accepted").text
    assert f'href="/workorders/{accepted["id"]}"' in html
    assert f'href="/workorders/{assigned["id"]}"' not in html
    assert re.search(r'<option selected value="accepted">|<option value="accepted" selected',
                     html)
    refused = client.get("/workorders?state=nonsense")
    assert refused.status_code == 422
    error = re.search(r'id="state-error"[^>]*>([^<]+)<', refused.text)
    assert error and "请从给出的选项中选择" in error.group(1)
    assert f'href="/workorders/{assigned["id"]}"' in refused.text


def test_the_company_accepts_and_completes_with_photos_through_the_forms(site):
    order = site.issue(note="清运院内建筑垃圾")
    client = site.page_client(site.company)
    page = client.get(f"/workorders/{order['id']}")
    assert "清运院内建筑垃圾" in page_text(page.text)
    response = client.post(f"/workorders/{order['id']}/transitions/accept",
                           data={"csrf_token": form_token(page.text),
                                 "accept-expected_version": order["version"]})
    assert response.status_code == 303
    accepted = site.order(order["id"])
    assert accepted["state"] == "accepted"

    page = client.get(f"/workorders/{order['id']}")
    assert 'capture="environment"' in page.text and 'accept="image/*"' in page.text
    assert "multiple" in page.text
    response = client.post(
        f"/workorders/{order['id']}/transitions/complete",
        data={"csrf_token": form_token(page.text), "complete-expected_version": accepted["version"],
              "complete-note": "已清运完毕",
              "complete-attachment": [(io.BytesIO(samples.png("a")), "a.png"),
                                      (io.BytesIO(samples.png("b")), "b.png")]},
        content_type="multipart/form-data")
    assert response.status_code == 303, page_text(response.text)[:500]
    assert site.order(order["id"])["state"] == "completed"
    assert photo_count(order["id"]) == 2
    shown = client.get(f"/workorders/{order['id']}")
    assert shown.text.count(f'src="/workorders/{order["id"]}/attachments/') == 3  # + the case's
    src = re.search(rf'src="(/workorders/{order["id"]}/attachments/\d+)"', shown.text).group(1)
    assert client.get(src).status_code == 200
    assert "已清运完毕" in page_text(shown.text)


def test_complete_without_a_photo_is_refused_beside_the_field_and_changes_nothing(site):
    order = site.issue()
    accepted = site.step(site.company, order["id"], "accept")
    client = site.page_client(site.company)
    page = client.get(f"/workorders/{order['id']}")
    response = client.post(f"/workorders/{order['id']}/transitions/complete",
                           data={"csrf_token": form_token(page.text),
                                 "complete-expected_version": accepted["version"],
                                 "complete-note": "完成"},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    error = re.search(r'id="complete-attachment-error"[^>]*>([^<]+)<', response.text)
    assert error and "照片" in error.group(1)
    assert site.order(order["id"])["version"] == accepted["version"]
    assert site.order(order["id"])["state"] == "accepted"

    not_a_photo = client.post(f"/workorders/{order['id']}/transitions/complete",
                              data={"csrf_token": form_token(page.text),
                                    "complete-expected_version": accepted["version"],
                                    "complete-attachment": (io.BytesIO(b"plain text"), "x.txt")},
                              content_type="multipart/form-data")
    assert not_a_photo.status_code == 422
    assert re.search(r'id="complete-attachment-error"', not_a_photo.text)
    assert photo_count(order["id"]) == 0 and site.order(order["id"])["state"] == "accepted"


def test_a_good_photo_with_a_refused_step_is_not_kept(site):
    order = site.issue()
    accepted = site.step(site.company, order["id"], "accept")
    client = site.page_client(site.company)
    page = client.get(f"/workorders/{order['id']}")
    stale = client.post(f"/workorders/{order['id']}/transitions/complete",
                        data={"csrf_token": form_token(page.text),
                              "complete-expected_version": accepted["version"] - 1,
                              "complete-attachment": (io.BytesIO(samples.png("c")), "c.png")},
                        content_type="multipart/form-data")
    assert stale.status_code == 409
    assert "他人修改" in page_text(stale.text)
    assert photo_count(order["id"]) == 0 and site.order(order["id"])["state"] == "accepted"


def test_rejected_work_comes_back_with_the_officers_reason(site):
    order = site.issue()
    site.step(site.company, order["id"], "accept")
    site.photo(site.company, order["id"])
    completed = site.step(site.company, order["id"], "complete")

    officer = site.page_client(site.officer)
    page = officer.get(f"/workorders/{order['id']}")
    assert "验收" in page_text(page.text)
    without_reason = officer.post(f"/workorders/{order['id']}/transitions/reject",
                                  data={"csrf_token": form_token(page.text),
                                        "reject-expected_version": completed["version"]})
    assert without_reason.status_code == 422
    assert re.search(r'id="reject-note-error"', without_reason.text)
    assert site.order(order["id"])["state"] == "completed"
    response = officer.post(f"/workorders/{order['id']}/transitions/reject",
                            data={"csrf_token": form_token(page.text),
                                  "reject-expected_version": completed["version"],
                                  "reject-note": "东侧墙角垃圾未清运"})
    assert response.status_code == 303
    assert site.order(order["id"])["state"] == "rejected"

    company_page = site.page_client(site.company).get(f"/workorders/{order['id']}")
    returned = re.search(r'id="returned".*?</div>', company_page.text, re.S).group(0)
    assert "退回返工" in page_text(returned) and "东侧墙角垃圾未清运" in page_text(returned)
    assert "接单" in page_text(company_page.text)


def test_the_company_never_sees_the_owners_personal_data(site):
    order = site.issue(note="清运")
    site.step(site.company, order["id"], "accept")
    client = site.page_client(site.company)
    for lang in ("zh", "en"):
        for path in ("/workorders", f"/workorders/{order['id']}",
                     f"/workorders/{order['id']}?lang={lang}"):
            html = client.get(path).text
            for value in OWNER.values():
                assert value not in html, (path, value)
    assert "幸福路3号" in page_text(client.get(f"/workorders/{order['id']}").text)


def test_what_is_not_the_company_s_own_is_the_404_page(site):
    mine = site.issue()
    theirs = site.issue(site.rival)
    client = site.page_client(site.company)
    page = client.get(f"/workorders/{mine['id']}")
    for path in (f"/workorders/{theirs['id']}", f"/cases/{site.case['id']}",
                 f"/workorders/{theirs['id']}/attachments/1"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert "页面不存在" in page_text(response.text) or "找不到" in page_text(response.text)
    refused = client.post(f"/workorders/{theirs['id']}/transitions/accept",
                          data={"csrf_token": form_token(page.text),
                                "accept-expected_version": theirs["version"]})
    assert refused.status_code == 404
    assert site.order(theirs["id"])["state"] == "assigned"


def test_a_form_sent_without_its_csrf_token_is_refused(site):
    order = site.issue()
    client = site.page_client(site.company)
    response = client.post(f"/workorders/{order['id']}/transitions/accept",
                           data={"accept-expected_version": order["version"]})
    assert response.status_code == 400
    assert site.order(order["id"])["state"] == "assigned"


def test_the_officer_issues_a_work_order_from_the_case_page(site, app):
    client = site.page_client(site.officer)
    page = client.get(f"/cases/{site.case['id']}/workorders/new")
    assert page.status_code == 200
    data = {"csrf_token": form_token(page.text),
            "workorder-company_id": site.company.company_id, "workorder-kind": "post_notice",
            "workorder-note": "张贴于大门"}
    past = client.post(f"/cases/{site.case['id']}/workorders",
                       data={**data, "workorder-due_date": local_day(-1).isoformat()})
    assert past.status_code == 422
    assert re.search(r'id="workorder-due_date-error"', past.text)
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0
    response = client.post(f"/cases/{site.case['id']}/workorders",
                           data={**data, "workorder-due_date": local_day(3).isoformat()})
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{site.case['id']}"
    order = db.session.scalars(select(WorkOrder)).one()
    assert (order.company_id, order.kind.value, order.note) == (
        site.company.company_id, "post_notice", "张贴于大门")

    with app.test_request_context():
        from casework.cases.models import Case
        case = db.session.get(Case, site.case["id"])
        officer = db.session.get(User, site.officer.id)
        html = render_template("workorders/_case_workorders.html", case=case, user=officer)
        assert f'href="/workorders/{order.id}"' in html
        assert 'name="workorder-due_date"' in html
        company_user = db.session.get(User, site.company.id)
        assert 'name="workorder-due_date"' not in render_template(
            "workorders/_case_workorders.html", case=case, user=company_user)


def test_a_form_sent_again_from_the_phone_s_outbox_counts_once(site):
    order = site.issue()
    client = site.page_client(site.company)
    page = client.get(f"/workorders/{order['id']}")
    assert 'data-offline=' in page.text
    data = {"csrf_token": form_token(page.text), "accept-expected_version": order["version"]}
    headers = {"Idempotency-Key": "accept-once-1"}
    first = client.post(f"/workorders/{order['id']}/transitions/accept", data=data,
                        headers=headers)
    again = client.post(f"/workorders/{order['id']}/transitions/accept", data=data,
                        headers=headers)
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert site.order(order["id"])["version"] == order["version"] + 1


def test_a_photo_scaled_down_on_the_phone_keeps_the_time_it_was_taken(site):
    order = site.issue()
    accepted = site.step(site.company, order["id"], "accept")
    client = site.page_client(site.company)
    page = client.get(f"/workorders/{order['id']}")
    taken = (clock.now() - timedelta(days=2)).replace(microsecond=0)
    response = client.post(
        f"/workorders/{order['id']}/transitions/complete",
        data={"csrf_token": form_token(page.text), "complete-expected_version": accepted["version"],
              "complete-attachment": (io.BytesIO(samples.png("t")), "t.jpg"),
              "taken_at": taken.isoformat().replace("+00:00", "Z")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    photo = db.session.scalars(select(Attachment).where(Attachment.workorder_id == order["id"])).one()
    assert photo.taken_at == taken
