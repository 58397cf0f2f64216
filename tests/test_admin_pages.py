"""The admin pages (spec section 14): users with their roles, zones or company; zones and
compounds; companies with their webhook secret shown once. The same operations as the admin
API decide: a refusal shows beside its field and changes nothing, and a user the
administration policy refuses gets the 404 page."""
from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from casework.accounts.models import Company, User
from casework.extensions import db
from casework.places.models import Compound, Zone
from tests.web import form_token, page_text, post_form, sign_in


@pytest.fixture
def admin(make) -> User:
    return make.user("admin", username="root")


@pytest.fixture
def desk(app, admin) -> FlaskClient:
    client = app.test_client()
    sign_in(client, admin)
    return client


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>([^<]+)<', html)
    assert match, f"no error beside {field}: {page_text(html)[:600]}"
    return match.group(1).strip()


def stored_user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/zones",
                                  "/admin/compounds", "/admin/companies"])
def test_every_admin_page_renders_for_an_admin(desk, make, path):
    make.compound(make.zone("ZA"))
    make.user("company", company="物业甲")
    page = desk.get(path)
    assert page.status_code == 200, page_text(page.text)[:500]
    assert 'href="/admin/users"' in page.text


def test_the_user_list_shows_role_zones_company_and_whether_active(desk, make):
    zone = make.zone("ZA")
    make.user("officer", [zone], username="wang")
    make.user("company", company="物业甲", username="firm")
    text = page_text(desk.get("/admin/users").text)
    assert "wang wang 执法队员 ZA — 启用" in text  # the display name defaults to the username
    assert "firm firm 物业公司 — 物业甲 启用" in text
    assert "启用" in text
    found = page_text(desk.get("/admin/users?q=fir").text)
    assert "firm" in found and "wang" not in found


def test_an_admin_creates_an_officer_in_a_zone_who_can_then_sign_in(app, desk, make):
    zone = make.zone("ZA")
    response = post_form(desk, "/admin/users/new", {
        "username": "li.na", "password": "long-enough-1", "display_name": "李娜",
        "role": "officer", "zone_ids": [str(zone.id)], "company_id": "", "email": "",
        "locale": "zh"})
    assert response.status_code == 303
    user = stored_user("li.na")
    assert user and user.display_name == "李娜" and [z.code for z in user.zones] == ["ZA"]
    assert "用户 li.na 已创建" in page_text(desk.get(response.location).text)
    sign_in(app.test_client(), user, password="long-enough-1")


def test_a_company_user_without_a_company_is_refused_beside_the_field(desk, make):
    before = count(User)
    response = post_form(desk, "/admin/users/new", {
        "username": "firm.user", "password": "long-enough-1", "role": "company",
        "company_id": "", "locale": "zh"})
    assert response.status_code == 422
    assert field_error(response.text, "company_id") == "物业公司用户必须属于一个物业公司。"
    assert count(User) == before
    short = post_form(desk, "/admin/users/new", {
        "username": "bad name", "password": "short", "role": "admin", "locale": "zh"})
    assert short.status_code == 422
    assert field_error(short.text, "password") == "至少 8 个字符。"
    assert "username-error" in short.text
    assert count(User) == before


def test_an_admin_deactivates_reactivates_and_assigns_zones(desk, make):
    zone_a, zone_b = make.zone("ZA"), make.zone("ZB")
    officer = make.user("officer", [zone_a])
    path = f"/admin/users/{officer.id}"
    page = desk.get(path).text
    assert desk.post(f"{path}/active", data={"active": "false",
                                              "csrf_token": form_token(page)}).status_code == 303
    assert stored_user(officer.username).active is False
    assert "停用" in page_text(desk.get(path).text)
    assert desk.post(f"{path}/active", data={"active": "true",
                                              "csrf_token": form_token(page)}).status_code == 303
    assert stored_user(officer.username).active is True

    moved = post_form(desk, path, {"display_name": "调岗", "role": "officer",
                                   "zone_ids": [str(zone_b.id)], "company_id": "",
                                   "locale": "en", "email": "x@district.test"}, page=page)
    assert moved.status_code == 303
    stored = stored_user(officer.username)
    assert [z.code for z in stored.zones] == ["ZB"] and stored.locale == "en"

    nowhere = post_form(desk, path, {"display_name": "调岗", "role": "officer",
                                     "company_id": "", "locale": "en"}, page=page)
    assert nowhere.status_code == 422
    assert field_error(nowhere.text, "zone_ids") == "执法队员至少要负责一个片区。"
    assert [z.code for z in stored_user(officer.username).zones] == ["ZB"]


def test_an_admin_cannot_deactivate_itself(desk, admin):
    path = f"/admin/users/{admin.id}"
    response = post_form(desk, f"{path}/active", {"active": "false"}, page=desk.get(path).text)
    assert response.status_code == 422
    assert "不能停用自己的账号" in page_text(response.text)
    assert stored_user("root").active is True


def test_a_password_reset_typed_or_generated_and_shown_once(app, desk, make):
    officer = make.user("officer", [make.zone()])
    path = f"/admin/users/{officer.id}"
    typed = post_form(desk, f"{path}/password", {"password": "typed-password-9"}, page=desk.get(path).text)
    assert typed.status_code == 303
    assert check_password_hash(stored_user(officer.username).password_hash, "typed-password-9")

    generated = post_form(desk, f"{path}/password", {"generate": "y", "password": ""},
                          page=desk.get(path).text)
    assert generated.status_code == 303
    shown = desk.get(path).text
    password = re.search(r'id="new-password".*?<code[^>]*>([^<]+)</code>', shown, re.S).group(1)
    assert check_password_hash(stored_user(officer.username).password_hash, password)
    assert password not in desk.get(path).text
    sign_in(app.test_client(), officer, password=password)

    short = post_form(desk, f"{path}/password", {"password": "short"}, page=desk.get(path).text)
    assert short.status_code == 422
    assert field_error(short.text, "password") == "至少 8 个字符。"
    assert check_password_hash(stored_user(officer.username).password_hash, password)


def test_a_company_is_created_and_its_secret_shown_once(desk):
    response = post_form(desk, "/admin/companies", {
        "name": "新物业", "contact": "张经理 13800000000",
        "webhook_url": "https://hooks.example.test/casework"})
    assert response.status_code == 303
    db.session.expire_all()
    company = db.session.scalar(select(Company).where(Company.name == "新物业"))
    assert company.webhook_url == "https://hooks.example.test/casework"
    page = desk.get(response.location).text
    assert company.webhook_secret in page
    assert company.webhook_secret not in desk.get(response.location).text
    assert company.webhook_secret not in desk.get("/admin/companies").text

    old = company.webhook_secret
    rotated = post_form(desk, f"/admin/companies/{company.id}/secret", page=page)
    assert rotated.status_code == 303
    db.session.expire_all()
    new = db.session.get(Company, company.id).webhook_secret
    assert new != old
    assert new in desk.get(rotated.location).text
    assert new not in desk.get(rotated.location).text


def test_a_bad_company_form_changes_nothing(desk, make):
    make.user("company", company="物业甲")
    before = count(Company)
    duplicate = post_form(desk, "/admin/companies", {"name": "物业甲"})
    assert duplicate.status_code == 422
    assert field_error(duplicate.text, "name") == "该名称已被使用。"
    bad_url = post_form(desk, "/admin/companies", {"name": "物业乙", "webhook_url": "ftp://x"})
    assert bad_url.status_code == 422
    assert "webhook_url-error" in bad_url.text
    assert count(Company) == before


def test_zones_and_compounds_are_created_and_renamed(desk):
    created = post_form(desk, "/admin/zones", {"code": "Z7", "name": "第七片区"})
    assert created.status_code == 303
    db.session.expire_all()
    zone = db.session.scalar(select(Zone).where(Zone.code == "Z7"))
    assert zone.name == "第七片区"
    again = post_form(desk, "/admin/zones", {"code": "Z7", "name": "重复"})
    assert again.status_code == 422 and field_error(again.text, "code") == "该编号的片区已存在。"
    assert count(Zone) == 1
    renamed = post_form(desk, f"/admin/zones/{zone.id}", {"name": "七区"})
    assert renamed.status_code == 303
    db.session.expire_all()
    assert db.session.get(Zone, zone.id).name == "七区"

    compound = post_form(desk, "/admin/compounds", {"zone_id": str(zone.id), "name": "幸福小区",
                                                    "address": "幸福路1号"})
    assert compound.status_code == 303
    assert "幸福小区" in page_text(desk.get(compound.location).text)
    no_zone = post_form(desk, "/admin/compounds", {"zone_id": "", "name": "无片区"})
    assert no_zone.status_code == 422 and field_error(no_zone.text, "zone_id") == "请选择片区。"
    assert count(Compound) == 1
    stored = db.session.scalar(select(Compound))
    edited = post_form(desk, f"/admin/compounds/{stored.id}", {"name": "幸福家园",
                                                               "address": "幸福路2号"})
    assert edited.status_code == 303
    db.session.expire_all()
    assert (db.session.get(Compound, stored.id).name,
            db.session.get(Compound, stored.id).address) == ("幸福家园", "幸福路2号")


@pytest.mark.parametrize("role", ["supervisor", "officer", "company"])
def test_anyone_but_an_admin_gets_the_404_page(app, make, role):
    zone = make.zone()
    user = make.user(role, [zone] if role == "officer" else [])
    client = app.test_client()
    sign_in(client, user)
    for path in ("/admin/users", "/admin/companies", "/admin/zones", f"/admin/zones/{zone.id}"):
        assert client.get(path).status_code == 404
    page = client.get("/inbox").text
    before = count(Zone)
    assert client.post("/admin/zones", data={"code": "ZX", "name": "x",
                                             "csrf_token": form_token(page)}).status_code == 404
    assert count(Zone) == before


def test_a_visitor_not_signed_in_is_sent_to_sign_in(client):
    response = client.get("/admin/users")
    assert response.status_code in (302, 303) and "/login" in response.location


def test_a_post_without_its_csrf_token_is_refused(desk):
    response = desk.post("/admin/zones", data={"code": "Z8", "name": "第八片区"})
    assert response.status_code == 400
    assert count(Zone) == 0


def test_an_unknown_record_is_the_404_page(desk):
    for path in ("/admin/users/999999", "/admin/companies/999999", "/admin/zones/999999",
                 "/admin/compounds/999999"):
        assert desk.get(path).status_code == 404


def test_the_pages_speak_english_when_asked(app, admin):
    client = app.test_client()
    sign_in(client, admin, lang="en")
    users = page_text(client.get("/admin/users").text)
    assert "New user" in users and "Administrator" in users and "Active" in users
    refused = post_form(client, "/admin/zones", {"code": "bad code!", "name": "x"})
    assert refused.status_code == 422
    assert field_error(refused.text, "code") == "Use letters, digits, _ and - only."
