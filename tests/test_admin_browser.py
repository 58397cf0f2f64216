"""The admin's day in a browser: an admin creates a company user through the form, and that
user can then sign in and lands on its work orders."""
from __future__ import annotations

import pytest

from tests.browser import same_page, sign_in

pytestmark = pytest.mark.slow


def test_an_admin_creates_a_company_user_who_can_then_sign_in(signed_in_page, open_page,
                                                              live_server):
    page = signed_in_page("admin", size="desk")
    assert page.url.endswith("/admin/users")
    page.goto("/admin/users/new")
    page.get_by_label("用户名", exact=True).fill("browser.firm")
    page.get_by_label("密码", exact=True).fill("firm-password-1")
    page.get_by_label("显示名称", exact=True).fill("新物业员工")
    page.get_by_label("角色", exact=True).select_option("company")
    with same_page(page):
        page.get_by_role("button", name="创建用户").click()
    # No company chosen: the operation's refusal beside the field, nothing created.
    assert "物业公司用户必须属于一个物业公司。" in page.locator("#company_id-error").inner_text()
    page.get_by_label("密码", exact=True).fill("firm-password-1")
    page.get_by_label("物业公司", exact=True).select_option(index=1)
    with same_page(page):
        page.get_by_role("button", name="创建用户").click()
    assert "用户 browser.firm 已创建" in page.locator("main").inner_text()

    firm = open_page("phone")
    sign_in(firm, "browser.firm", live_server.url, password="firm-password-1")
    assert firm.url.endswith("/workorders")
