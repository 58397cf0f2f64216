"""A company's day in a real browser on the demo district (issue 8): an officer issues a work
order from the case page, the company accepts it and completes it with a photo from the
phone, and another company's work order is the 404 page. Never an owner's personal data."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casework import clock
from casework.accounts.models import Company
from casework.cases.models import Case, CaseState
from casework.evidence import samples
from casework.extensions import db
from casework.workorders.models import WorkOrder
from tests.browser import same_page, watch

pytestmark = pytest.mark.slow

COMPANY = "company1"
OFFICER = "officer1a"


def _open_case_of(live_server, officer) -> dict:
    """A case of the officer's that still takes work orders, with its owner's data: the one
    with the highest id, so that other browser tests (which take the first ones) leave it be."""
    def work():
        case = db.session.scalar(
            select(Case).where(Case.officer_id == officer.id,
                               Case.state.in_([CaseState.IDENTIFIED,
                                               CaseState.OWNERSHIP_VERIFIED,
                                               CaseState.NEGOTIATED]))
            .order_by(Case.id.desc()).limit(1))
        return {"id": case.id, "owner": [v for v in (case.owner_name, case.owner_phone,
                                                     case.owner_id_number) if v]}
    return live_server.query(work)


def test_the_company_accepts_and_completes_an_order_the_officer_issued(
        live_server, signed_in_page, tmp_path):
    officer = live_server.user(OFFICER)
    company = live_server.user(COMPANY)
    case = _open_case_of(live_server, officer)
    assert case["owner"], "the demo case has an owner's data to keep from the company"

    # The officer issues it from the case page.
    page = signed_in_page(OFFICER)
    page.goto(f"/cases/{case['id']}")
    page.locator("#case-workorders summary").click()
    page.locator("select[name='workorder-company_id']").select_option(str(company.company_id))
    page.locator("select[name='workorder-kind']").select_option("clear_debris")
    due = live_server.query(lambda: (clock.local_today() + timedelta(days=3)).isoformat())
    page.locator("input[name='workorder-due_date']").fill(due)
    page.locator("textarea[name='workorder-note']").fill("清运东侧堆放的建筑垃圾")
    with same_page(page):
        page.locator("#case-workorders button[type=submit]").click()
    assert page.url.endswith(f"/cases/{case['id']}")
    order_id = live_server.scalar(select(WorkOrder.id).where(
        WorkOrder.case_id == case["id"], WorkOrder.company_id == company.company_id)
        .order_by(WorkOrder.id.desc()).limit(1))
    assert page.locator(f"#case-workorders a[href='/workorders/{order_id}']").count() == 1

    # The company finds it among its new orders, accepts and completes it with a photo.
    phone = signed_in_page(COMPANY)
    log = watch(phone)
    assert phone.url.endswith("/workorders")
    phone.goto("/workorders?state=assigned")
    with same_page(phone):
        phone.locator(f"a[href='/workorders/{order_id}']").click()
    assert "清运东侧堆放的建筑垃圾" in phone.locator("main").inner_text()
    with same_page(phone):
        phone.locator("#action-accept button[type=submit]").click()
    assert phone.locator(".workorder-state-accepted").count() == 1

    photo = tmp_path / "done.png"
    photo.write_bytes(samples.png("company-browser-test"))
    upload = phone.locator("#complete-attachment")
    assert upload.get_attribute("capture") == "environment"
    upload.set_input_files(str(photo))
    with same_page(phone):
        phone.locator("#action-complete button[type=submit]").click()
    assert phone.locator(".workorder-state-completed").count() == 1
    assert phone.locator(f"img[src^='/workorders/{order_id}/attachments/']").count() >= 1
    assert live_server.scalar(select(WorkOrder.state).where(WorkOrder.id == order_id)).value \
        == "completed"
    html = phone.content()
    for value in case["owner"]:
        assert value not in html
    assert not log.errors, log.errors


def test_another_company_s_order_is_the_404_page(live_server, signed_in_page):
    company = live_server.user(COMPANY)
    theirs = live_server.scalar(select(WorkOrder.id).where(
        WorkOrder.company_id != company.company_id).limit(1))
    mine = live_server.scalar(select(WorkOrder.id).where(
        WorkOrder.company_id == company.company_id).limit(1))
    assert theirs and mine
    page = signed_in_page(COMPANY)
    response = page.goto(f"/workorders/{theirs}")
    assert response.status == 404
    assert "页面不存在" in page.locator("h1").inner_text()
    assert page.goto(f"/workorders/{mine}").status == 200
    name = live_server.scalar(select(Company.name).where(Company.id == company.company_id))
    assert name in page.locator("main").inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_axe_finds_nothing_serious_on_the_company_s_pages(live_server, signed_in_page, lang):
    from axe_playwright_python.sync_playwright import Axe

    company = live_server.user(COMPANY)
    mine = live_server.scalar(select(WorkOrder.id).where(
        WorkOrder.company_id == company.company_id).order_by(WorkOrder.id).limit(1))
    page = signed_in_page(COMPANY, lang=lang)
    for path in ("/workorders", f"/workorders/{mine}"):
        page.goto(path)
        violations = [(v["id"], v["impact"], [n["html"][:150] for n in v["nodes"]][:3])
                      for v in Axe().run(page).response["violations"]
                      if v["impact"] in ("serious", "critical")]
        assert not violations, (path, lang, violations)
