"""The officer's case pages (spec section 14, issue 8): today's cases overdue first and grouped
by compound; the case list's filters kept in the address; a new case with its photo; the case
page's trigger forms, whose refusals are shown beside their field (422) and change nothing;
the 404 page for a company; a form without its CSRF token refused."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.accounts.models import User
from casework.cases.models import Case, CaseEvent
from casework.evidence import samples
from casework.evidence.models import Attachment
from casework.extensions import db
from casework.places.models import Compound
from tests.support import Api, local_day
from tests.web import form_token, page_text, post_form, sign_in

OWNER = {"owner_name": "演示户主甲", "owner_phone": "13900000001",
         "owner_id_number": "110101199001010011"}


@dataclass
class Site:
    app: object
    api: Api
    make: object
    officer: User
    colleague: User
    supervisor: User
    company: User
    east: Compound
    west: Compound
    elsewhere: Compound

    def client(self, user: User, lang: str | None = None) -> FlaskClient:
        client = self.app.test_client()
        sign_in(client, user, lang=lang)
        return client

    def case(self, case_id: int) -> dict:
        return self.api.as_(self.officer).get(f"/api/v1/cases/{case_id}").get_json()


@pytest.fixture
def site(app, api, make) -> Site:
    zone = make.zone()
    other_zone = make.zone()
    officer = make.user("officer", [zone])
    return Site(app, api, make, officer, make.user("officer", [zone]),
                make.user("supervisor", [zone]), make.user("company"),
                make.compound(zone), make.compound(zone), make.compound(other_zone))


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Case, CaseEvent, Attachment))


def test_today_lists_my_open_cases_overdue_first_grouped_by_compound(site):
    officer = site.api.as_(site.officer)
    calm = officer.create_case(site.east, address="东区1号")
    late = officer.create_case(site.west, address="西区2号")
    soon = officer.create_case(site.west, address="西区3号")
    site.make.set_due_at(late["id"], -2)
    site.make.set_due_at(soon["id"], 1)
    theirs = site.api.as_(site.colleague).create_case(site.east, address="别人的案件")

    response = site.client(site.officer).get("/today")
    assert response.status_code == 200
    html = response.text
    places = [html.index(f'href="/cases/{c["id"]}"') for c in (late, soon, calm)]
    assert places == sorted(places), "the compound with an overdue case first, overdue first"
    assert html.index(site.west.name) < html.index(site.east.name)
    assert f'href="/cases/{theirs["id"]}"' not in html
    late_item = html[places[0]:places[1]]
    assert "已超期" in page_text(late_item) and "已超期" not in page_text(html[places[1]:])
    assert "3 件在办案件，1 件超期" in page_text(html)
    assert "data-prefetch-cases" in html


def test_the_case_list_keeps_its_filters_and_searches(site):
    officer = site.api.as_(site.officer)
    shed = officer.create_case(site.east, kind="shed", address="幸福路8号")
    illegal = officer.create_case(site.east, kind="illegal_structure", address="和平街5号")
    other = site.api.as_(site.colleague).create_case(site.west, kind="shed", address="和平街9号")
    client = site.client(site.officer)

    html = client.get(f"/cases?kind=shed&compound={site.east.id}").text
    assert f'href="/cases/{shed["id"]}"' in html
    assert f'href="/cases/{illegal["id"]}"' not in html
    assert f'href="/cases/{other["id"]}"' not in html
    assert re.search(r'<option selected value="shed">|<option value="shed" selected', html)
    assert re.search(rf'<option selected value="{site.east.id}">|'
                     rf'<option value="{site.east.id}" selected', html)

    exports = re.findall(r'href="(/exports/[^"]+|[^"]*format=(?:csv|xlsx)[^"]*)"', html)
    assert exports and all("kind=shed" in href for href in exports), exports

    found = client.get("/cases?q=和平街").text
    assert f'href="/cases/{illegal["id"]}"' in found and f'href="/cases/{other["id"]}"' in found
    assert f'href="/cases/{shed["id"]}"' not in found
    assert 'value="和平街"' in found

    refused = client.get("/cases?state=nonsense")
    assert refused.status_code == 422
    error = re.search(r'id="state-error"[^>]*>([^<]+)<', refused.text)
    assert error and "请从给出的选项中选择" in error.group(1)


def test_the_case_list_pages_keep_the_filters(site):
    officer = site.api.as_(site.officer)
    for n in range(27):
        officer.create_case(site.east, kind="shed", address=f"翻页路{n}号")
    html = site.client(site.officer).get("/cases?kind=shed").text
    assert "共 27 件案件" in page_text(html) or "27 件案件" in page_text(html)
    assert html.count('class="list-group-item') == 25
    assert re.search(r'href="/cases\?kind=shed&amp;page=2"', html)
    second = site.client(site.officer).get("/cases?kind=shed&page=2").text
    assert second.count('class="list-group-item') == 2


def test_a_new_case_with_its_photo_before_and_position(site):
    client = site.client(site.officer)
    page = client.get("/cases/new")
    assert page.status_code == 200
    assert 'capture="environment"' in page.text and "data-geolocate" in page.text
    response = client.post("/cases/new", data={
        "csrf_token": form_token(page.text), "compound_id": site.west.id, "kind": "shed",
        "address": "新建路1号", "description": "院内彩钢棚", "difficulty": "2",
        "owner_name": "张三", "owner_phone": "13800000000", "lat": "39.9", "lon": "116.4",
        "accuracy_m": "12.5", "attachment": (io.BytesIO(samples.png("new")), "before.png")},
        content_type="multipart/form-data")
    assert response.status_code == 303, page_text(response.text)[:600]
    case = db.session.scalars(select(Case)).one()
    assert response.headers["Location"] == f"/cases/{case.id}"
    assert (case.compound_id, case.kind.value, case.address, case.difficulty, case.officer_id,
            case.owner_name, case.accuracy_m) == (site.west.id, "shed", "新建路1号", 2,
                                                  site.officer.id, "张三", 12.5)
    photo = db.session.scalars(select(Attachment)).one()
    assert photo.kind.value == "before_photo"
    shown = client.get(f"/cases/{case.id}").text
    src = re.search(rf'src="(/cases/{case.id}/attachments/\d+)"', shown).group(1)
    assert client.get(src).status_code == 200


def test_a_new_case_refused_is_shown_beside_the_field_and_records_nothing(site):
    client = site.client(site.officer)
    page = client.get("/cases/new")
    before = counts()
    bad_phone = client.post("/cases/new", data={
        "csrf_token": form_token(page.text), "compound_id": site.west.id, "kind": "shed",
        "difficulty": "3", "owner_phone": "call me"})
    assert bad_phone.status_code == 422
    assert re.search(r'id="owner_phone-error"', bad_phone.text)
    not_a_photo = client.post("/cases/new", data={
        "csrf_token": form_token(page.text), "compound_id": site.west.id, "kind": "shed",
        "difficulty": "3", "attachment": (io.BytesIO(b"plain text"), "x.txt")},
        content_type="multipart/form-data")
    assert not_a_photo.status_code == 422
    assert re.search(r'id="attachment-error"', not_a_photo.text)
    foreign = client.post("/cases/new", data={
        "csrf_token": form_token(page.text), "compound_id": site.elsewhere.id, "kind": "shed",
        "difficulty": "3"})
    assert foreign.status_code == 422
    assert counts() == before


def test_the_case_page_shows_details_owner_photos_history_and_its_triggers(site):
    officer = site.api.as_(site.officer)
    case = officer.create_case(site.east, address="幸福路3号", description="楼顶加建", **OWNER)
    assert officer.attach(case["id"], "before_photo").status_code == 201
    assert officer.attach(case["id"], "ownership_doc", samples.pdf("deed"), "deed.pdf"
                          ).status_code == 201
    client = site.client(site.officer)
    html = client.get(f"/cases/{case['id']}").text
    text = page_text(html)
    for shown in ("幸福路3号", "楼顶加建", *OWNER.values(), "已摸排", "核实产权", "deed.pdf"):
        assert shown in text, shown
    assert 'id="do-verify_ownership"' in html and 'id="do-approve_enforcement"' not in html
    assert len(re.findall(rf'<img src="/cases/{case["id"]}/attachments/\d+"', html)) == 1
    assert "已登记" in text and "已添加附件" in text
    for lang in ("en", "zh"):
        assert client.get(f"/cases/{case['id']}?lang={lang}").status_code == 200


def test_an_officer_takes_a_case_from_identified_to_demolished_through_the_forms(site):
    case = site.api.as_(site.officer).create_case(site.east, owner_unknown=False)
    client = site.client(site.officer)

    def step(trigger: str, data: dict, files: dict | None = None):
        page = client.get(f"/cases/{case['id']}")
        version = site.case(case["id"])["version"]
        body = {"csrf_token": form_token(page.text), f"{trigger}-expected_version": version,
                **{f"{trigger}-{k}": v for k, v in data.items()}}
        for name, content in (files or {}).items():
            body[f"{trigger}-{name}"] = content
        return client.post(f"/cases/{case['id']}/do/{trigger}", data=body,
                           content_type="multipart/form-data")

    r = step("verify_ownership", {"owner_name": "李四", "attachment_kind": "ownership_doc",
                                  "note": "房产证已核"},
             {"attachment": (io.BytesIO(samples.pdf("deed")), "deed.pdf")})
    assert r.status_code == 303, page_text(r.text)[:800]
    assert site.case(case["id"])["state"] == "ownership_verified"
    assert site.case(case["id"])["owner_name"] == "李四"
    r = step("negotiate", {"attachment_kind": "agreement", "deadline": local_day(5).isoformat()},
             {"attachment": (io.BytesIO(samples.png("agreement")), "agreement.png")})
    assert r.status_code == 303, page_text(r.text)[:800]
    r = step("demolish", {"method": "self", "note": "业主自拆"},
             {"attachment": (io.BytesIO(samples.png("after")), "after.png")})
    assert r.status_code == 303, page_text(r.text)[:800]
    assert site.case(case["id"])["state"] == "demolished"
    history = page_text(client.get(f"/cases/{case['id']}").text)
    assert "业主自拆" in history and "房产证已核" in history


def test_a_failed_guard_is_shown_beside_its_field_and_changes_nothing(site):
    case = site.api.as_(site.officer).case_in(site.east, "negotiated")
    client = site.client(site.officer)
    page = client.get(f"/cases/{case['id']}")
    before = counts()
    response = client.post(f"/cases/{case['id']}/do/demolish", data={
        "csrf_token": form_token(page.text), "demolish-expected_version": case["version"],
        "demolish-note": "已拆"})
    assert response.status_code == 422
    attachment = re.search(r'id="demolish-attachment-error"[^>]*>([^<]+)<', response.text)
    assert attachment and "拆除后" in attachment.group(1)
    method = re.search(r'id="demolish-method-error"[^>]*>([^<]+)<', response.text)
    assert method and "拆除方式" in method.group(1)
    assert re.search(r'<details[^>]*id="do-demolish" open', response.text)

    # A good photo with a refused step is not kept: one transaction.
    enforced = client.post(f"/cases/{case['id']}/do/demolish", data={
        "csrf_token": form_token(page.text), "demolish-expected_version": case["version"],
        "demolish-method": "enforced",
        "demolish-attachment": (io.BytesIO(samples.png("kept?")), "after.png")},
        content_type="multipart/form-data")
    assert enforced.status_code == 422
    assert re.search(r'id="demolish-method-error"', enforced.text)
    assert counts() == before
    assert site.case(case["id"])["version"] == case["version"]
    assert site.case(case["id"])["state"] == "negotiated"


def test_a_stale_form_is_refused_and_says_so(site):
    case = site.api.as_(site.officer).create_case(site.east, **OWNER)
    client = site.client(site.officer)
    page = client.get(f"/cases/{case['id']}")
    response = client.post(f"/cases/{case['id']}/do/verify_ownership", data={
        "csrf_token": form_token(page.text), "verify_ownership-expected_version": 99,
        "verify_ownership-attachment_kind": "ownership_doc",
        "verify_ownership-attachment": (io.BytesIO(samples.pdf("x")), "x.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 409
    assert "他人修改" in page_text(response.text)
    assert site.case(case["id"])["state"] == "identified"
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_photo_or_document_added_on_its_own(site):
    case = site.api.as_(site.officer).create_case(site.east)
    client = site.client(site.officer)
    page = client.get(f"/cases/{case['id']}")
    empty = client.post(f"/cases/{case['id']}/attachments", data={
        "csrf_token": form_token(page.text), "file-kind": "before_photo"},
        content_type="multipart/form-data")
    assert empty.status_code == 422
    assert re.search(r'id="file-attachment-error"', empty.text)
    added = client.post(f"/cases/{case['id']}/attachments", data={
        "csrf_token": form_token(page.text), "file-kind": "before_photo",
        "file-attachment": (io.BytesIO(samples.png("on its own")), "p.png")},
        content_type="multipart/form-data")
    assert added.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1


def test_the_supervisor_sees_the_supervisor_s_triggers(site):
    case = site.api.as_(site.officer).case_in(site.east, "negotiated")
    html = site.client(site.supervisor).get(f"/cases/{case['id']}").text
    assert 'id="do-approve_enforcement"' in html and 'id="do-demolish"' in html


def test_a_company_user_gets_the_404_page(site):
    case = site.api.as_(site.officer).create_case(site.east, **OWNER)
    assert site.api.as_(site.officer).attach(case["id"], "before_photo").status_code == 201
    client = site.client(site.company)
    for path in (f"/cases/{case['id']}", "/cases", "/today", "/cases/new",
                 f"/cases/{case['id']}/attachments/1"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html", path
        for value in OWNER.values():
            assert value not in response.text


def test_a_case_outside_the_officer_s_zones_is_the_404_page(site):
    stranger = site.make.user("officer", [site.elsewhere.zone])
    case = site.api.as_(stranger).create_case(site.elsewhere)
    assert site.client(site.officer).get(f"/cases/{case['id']}").status_code == 404


def test_a_form_sent_without_its_csrf_token_is_refused(site):
    case = site.api.as_(site.officer).create_case(site.east, **OWNER)
    client = site.client(site.officer)
    before = counts()
    response = client.post(f"/cases/{case['id']}/do/dispute", data={
        "dispute-expected_version": case["version"], "dispute-note": "x"})
    assert response.status_code == 400
    created = client.post("/cases/new", data={"compound_id": site.east.id, "kind": "shed",
                                              "difficulty": "3"})
    assert created.status_code == 400
    assert counts() == before
    assert site.case(case["id"])["version"] == case["version"]


def test_a_step_no_longer_offered_is_refused_above_the_forms(site):
    case = site.api.as_(site.officer).case_in(site.east, "ownership_verified")
    client = site.client(site.officer)
    page = client.get(f"/cases/{case['id']}")
    response = client.post(f"/cases/{case['id']}/do/verify_ownership", data={
        "csrf_token": form_token(page.text),
        "verify_ownership-expected_version": case["version"]})
    assert response.status_code == 409
    assert "案件状态已变化" in page_text(response.text)
    assert 'id="do-verify_ownership"' not in response.text
    assert site.case(case["id"])["version"] == case["version"]


def test_a_form_without_the_version_it_was_read_at_is_refused_in_words(site):
    case = site.api.as_(site.officer).case_in(site.east, "ownership_verified")
    client = site.client(site.officer)
    page = client.get(f"/cases/{case['id']}")
    response = client.post(f"/cases/{case['id']}/do/dispute", data={
        "csrf_token": form_token(page.text), "dispute-note": "业主有异议"})
    assert response.status_code == 422
    assert "他人修改" in page_text(response.text)
    assert site.case(case["id"])["version"] == case["version"]


# Correcting a case ----------------------------------------------------------------------------

def _corrections(case: dict, **changes) -> dict:
    """The edit form as the page fills it for ``case``, with ``changes``."""
    return {"expected_version": case["version"], "compound_id": case["compound_id"],
            "kind": case["kind"], "address": case["address"],
            "description": case["description"], "difficulty": case["difficulty"],
            "area_m2": "" if case["area_m2"] is None else case["area_m2"],
            "officer_id": case["officer_id"] or 0,
            **{name: case[name] or "" for name in OWNER}, **changes}


def test_an_officer_corrects_a_case_and_the_history_names_the_owner_fields_only(site):
    case = site.api.as_(site.officer).create_case(site.east, address="东区1号", **OWNER)
    client = site.client(site.officer)
    shown = client.get(f"/cases/{case['id']}")
    assert f'href="/cases/{case["id"]}/edit"' in shown.text
    page = client.get(f"/cases/{case['id']}/edit")
    assert page.status_code == 200
    assert 'value="东区1号"' in page.text and OWNER["owner_phone"] in page.text

    response = post_form(client, f"/cases/{case['id']}/edit", _corrections(
        case, compound_id=site.west.id, address="西区5号楼", area_m2="12,5",
        owner_phone="13900000002", officer_id=site.colleague.id), page=page.text)
    assert response.status_code == 303
    after = site.case(case["id"])
    assert (after["compound_id"], after["address"], after["area_m2"], after["owner_phone"],
            after["officer_id"], after["version"]) == (
        site.west.id, "西区5号楼", 12.5, "13900000002", site.colleague.id, case["version"] + 1)
    edit = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case["id"])
                              .order_by(CaseEvent.id.desc())).first()
    assert edit.trigger == "edit"
    assert edit.data["changed"] == {"compound_id": site.west.id, "address": "西区5号楼",
                                    "area_m2": 12.5, "owner_phone": None,
                                    "officer_id": site.colleague.id}


def test_a_refused_correction_is_shown_beside_its_field_and_changes_nothing(site):
    stranger = site.make.user("officer", [site.make.zone()])
    case = site.api.as_(site.officer).create_case(site.east, address="东区1号", **OWNER)
    client = site.client(site.officer)
    page = client.get(f"/cases/{case['id']}/edit").text
    before = counts()
    for field, changes in (("area_m2", {"area_m2": "twelve"}),
                           ("owner_phone", {"owner_phone": "call me"}),
                           ("officer_id", {"officer_id": stranger.id}),
                           ("compound_id", {"compound_id": site.elsewhere.id}),
                           ("difficulty", {"difficulty": 9})):
        response = post_form(client, f"/cases/{case['id']}/edit",
                             _corrections(case, address="改了", **changes), page=page)
        assert response.status_code == 422, field
        assert f'id="{field}-error"' in response.text, field
        assert 'value="改了"' in response.text, "the form keeps what was typed"
    stale = post_form(client, f"/cases/{case['id']}/edit",
                      _corrections(case, address="改了", expected_version=99), page=page)
    assert stale.status_code == 409
    assert "他人修改" in page_text(stale.text)
    assert counts() == before
    assert site.case(case["id"]) == case


def test_a_finished_case_is_not_corrected_and_a_company_cannot_reach_the_form(site):
    demolished = site.api.as_(site.officer).case_in(site.east, "demolished")
    response = site.api.as_(site.supervisor).fire(demolished["id"], "close", note="验收合格")
    assert response.status_code == 200, response.get_json()
    closed = response.get_json()
    client = site.client(site.officer)
    assert 'id="correct-case"' not in client.get(f"/cases/{closed['id']}").text
    for response in (client.get(f"/cases/{closed['id']}/edit"),
                     post_form(client, f"/cases/{closed['id']}/edit",
                               _corrections(closed, address="改了"),
                               page=client.get(f"/cases/{closed['id']}").text)):
        assert response.status_code == 303
        assert response.location.endswith(f"/cases/{closed['id']}")
    assert site.case(closed["id"])["address"] == closed["address"]

    case = site.api.as_(site.officer).create_case(site.east, **OWNER)
    company = site.client(site.company)
    response = company.get(f"/cases/{case['id']}/edit")
    assert response.status_code == 404
    assert OWNER["owner_name"] not in response.text
