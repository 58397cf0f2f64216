"""What every page shares, seen in a real browser on the demo district: signing in and out as
each role, the language switch remembered from page to page, CSRF refusals, the 404 page for
what a company may not see, no request leaving the machine and no CSP violation."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from casework.cases.models import Case, CaseState
from casework.workorders.models import WorkOrder
from tests.browser import DOCS, sign_in, watch

pytestmark = pytest.mark.slow

# Each role's start page (casework/accounts/views.py HOME) and a user of that role.
ROLES = {"officer": ("officer1a", "/today"), "company": ("company1", "/workorders"),
         "supervisor": ("sup1", "/dashboard"), "admin": ("admin", "/admin/users")}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def path_of(page) -> str:
    return urlsplit(page.url).path


def heading(page) -> str:
    return page.locator("main h1").first.inner_text().strip()


def open_case_of(live_server, username: str) -> int:
    """One of the officer's cases that is still open (its page has trigger forms)."""
    officer = live_server.user(username)
    return live_server.scalar(
        select(Case.id).where(Case.officer_id == officer.id,
                              Case.state.in_([CaseState.NEGOTIATED, CaseState.OWNERSHIP_VERIFIED,
                                              CaseState.IDENTIFIED]))
        .order_by(Case.state.desc(), Case.id).limit(1))


def test_the_address_of_the_site_is_the_sign_in_page(phone_page, base_url):
    response = phone_page.goto(base_url + "/")
    assert response.ok
    assert path_of(phone_page) == "/login"
    assert phone_page.locator("html").get_attribute("lang") == "zh-CN"
    assert phone_page.get_by_label("用户名").is_visible()
    assert phone_page.get_by_label("密码").is_visible()


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_signs_in_to_its_start_page_and_signs_out(open_page, live_server, role):
    username, start = ROLES[role]
    page = open_page("desk" if role in ("supervisor", "admin") else "phone")
    sign_in(page, username)
    assert path_of(page) == start
    assert heading(page) != "页面不存在", f"{start} is the 404 page for {username}"
    name = live_server.user(username).display_name
    assert name in page.locator("nav.navbar").text_content()

    page.goto("/inbox")
    assert path_of(page) == "/inbox"
    if page.locator("form[action='/logout'] button").is_hidden():
        page.locator(".navbar-toggler").click()  # the phone's collapsed menu
    with page.expect_navigation():
        page.locator("form[action='/logout'] button").click()
    assert path_of(page) == "/login"
    # Signed out for good: a page asks for the sign-in again, and remembers where it was.
    page.goto("/inbox")
    assert path_of(page) == "/login"
    assert "next=%2Finbox" in page.url or "next=/inbox" in page.url


def test_a_wrong_password_keeps_the_user_on_the_sign_in_page(phone_page, base_url):
    phone_page.goto(base_url + "/login")
    phone_page.get_by_label("用户名").fill("officer1a")
    phone_page.get_by_label("密码").fill("not-the-password")
    with phone_page.expect_navigation():
        phone_page.locator("form [type=submit]").click()
    assert path_of(phone_page) == "/login"
    assert phone_page.get_by_role("alert").count() + phone_page.locator(".alert").count() > 0


def test_the_language_switch_is_remembered_on_the_next_pages(signed_in_page):
    page = signed_in_page("officer1a")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "退出登录" in page.content()
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert "lang=en" in page.url
    assert page.locator("html").get_attribute("lang") == "en"
    # The next page, reached without ?lang, is still in English.
    page.goto("/cases")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Sign out" in page.content()
    page.goto("/inbox")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="中文").click()
    page.wait_for_load_state()
    page.goto("/today")
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_english_chosen_on_the_sign_in_page_is_kept_after_signing_in(open_page):
    page = open_page("phone", "en")
    sign_in(page, "company1", lang="en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Sign out" in page.content()


def test_a_form_sent_without_its_csrf_token_is_refused(signed_in_page):
    page = signed_in_page("officer1a")
    start = page.url
    # The sign-out form, with its hidden token taken out, as a forged form would come.
    page.evaluate("document.querySelector(\"form[action='/logout'] input[name=csrf_token]\").remove()")
    page.evaluate("document.querySelector(\"form[action='/logout']\").submit()")
    page.wait_for_load_state()
    assert heading(page) == "表单已过期"
    # Refused, so still signed in.
    page.goto(start)
    assert urlsplit(page.url).path == urlsplit(start).path
    # A POST from outside the page (no token at all) is refused the same way.
    response = page.request.post("/inbox/read", form={})
    assert response.status == 400
    assert "表单已过期" in response.text()


def test_a_company_gets_the_404_page_for_a_case_and_for_another_companys_work_order(
        signed_in_page, live_server):
    company = live_server.user("company1")
    case_id = live_server.scalar(select(Case.id).order_by(Case.id).limit(1))
    others = live_server.scalar(select(WorkOrder.id).where(WorkOrder.company_id != company.company_id)
                                .order_by(WorkOrder.id).limit(1))
    own = live_server.scalar(select(WorkOrder.id).where(WorkOrder.company_id == company.company_id)
                             .order_by(WorkOrder.id).limit(1))
    page = signed_in_page("company1")
    for address in (f"/cases/{case_id}", f"/workorders/{others}"):
        response = page.goto(address)
        assert response.status == 404, address
        assert heading(page) == "页面不存在", address
    # The company's own work order is there, and so is a page that does not exist at all,
    # word for word the same 404 as what it may not see.
    assert page.goto(f"/workorders/{own}").status == 200
    missing = page.goto("/workorders/999999999")
    assert missing.status == 404 and heading(page) == "页面不存在"


def _pages_of_the_day(page, extra: list[str]) -> list[str]:
    """The start page's navigation links (only routes that exist are shown) and ``extra``."""
    links = page.locator("nav.navbar a.nav-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    addresses = [a for a in links if a and a.startswith("/") and a != "/outbox"]
    return list(dict.fromkeys([path_of(page), *addresses, *extra]))


@pytest.mark.parametrize("role", list(ROLES))
def test_pages_load_only_from_this_server_and_break_no_content_security_rule(
        open_page, live_server, role):
    username, _start = ROLES[role]
    page = open_page("desk" if role in ("supervisor", "admin") else "phone")
    log = watch(page)
    sign_in(page, username)
    extra = []
    if role == "officer":
        extra = [f"/cases/{open_case_of(live_server, username)}", "/cases/new"]
    if role == "company":
        company = live_server.user(username)
        own = live_server.scalar(select(WorkOrder.id).where(
            WorkOrder.company_id == company.company_id).order_by(WorkOrder.id.desc()).limit(1))
        extra = [f"/workorders/{own}"]
    visited = _pages_of_the_day(page, extra + ["/inbox"])
    for address in visited:
        response = page.goto(address)
        assert response.status < 400, f"{address}: {response.status}"
        # The day's list then keeps its case pages for offline use, one at a time in the
        # background; their requests are recorded too, as the next pages load.
        page.wait_for_load_state("load")
    outside = [url for url in log.requests
               if urlsplit(url).scheme in ("http", "https", "ws", "wss")
               and urlsplit(url).hostname not in LOOPBACK]
    assert outside == [], f"requests leaving the machine from {visited}"
    violations = [text for kind, text in log.console
                  if "Content Security Policy" in text or "Content-Security-Policy" in text]
    assert violations == [], f"CSP violations on {visited}"
    assert log.console_errors() == [], f"console errors on {visited}"
    assert log.errors == [], f"script errors on {visited}"


def test_the_officers_case_page_on_a_phone_is_kept_as_a_screenshot(signed_in_page, live_server):
    """docs/officer-case.png: the case page as an officer sees it, 390 px wide, in Chinese."""
    page = signed_in_page("officer1a", "phone")
    case_id = open_case_of(live_server, "officer1a")
    assert page.goto(f"/cases/{case_id}").status == 200
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "wider than the phone"
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "officer-case.png"), full_page=True)
    assert (DOCS / "officer-case.png").stat().st_size > 10_000
