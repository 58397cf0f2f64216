"""Administration through the API, so that nothing needs a shell on the server: users with their
roles, zones or company; property companies with their webhook; renaming zones and compounds."""
from __future__ import annotations

from datetime import timedelta

import pytest

from casework import clock
from casework.notifications.delivery import deliver_pending
from tests.servers import WebhookReceiver
from tests.support import PASSWORD

USERS = "/api/v1/users"
COMPANIES = "/api/v1/companies"
LOGIN = "/api/v1/auth/login"


def login(api, username: str, password: str):
    return api.client.post(LOGIN, json={"username": username, "password": password})


def error(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def failed_fields(response) -> list[tuple[str | None, str]]:
    return sorted(((p["field"], p["rule"]) for p in error(response, 422)["details"]),
                  key=lambda item: (item[0] or "", item[1]))


def usernames(api, admin) -> list[str]:
    response = api.as_(admin).get(f"{USERS}?per_page=200")
    assert response.status_code == 200, response.get_json()
    return [u["username"] for u in response.get_json()["items"]]


def case_ids(api, user) -> list[int]:
    response = api.as_(user).get("/api/v1/cases")
    assert response.status_code == 200, response.get_json()
    return [c["id"] for c in response.get_json()["items"]]


@pytest.fixture
def admin(make):
    return make.user("admin", username="root")


# Users --------------------------------------------------------------------------------------

def test_an_admin_creates_an_officer_who_can_then_sign_in_and_work_in_the_zone(api, make, admin):
    zone_a, zone_b = make.zone("ZA"), make.zone("ZB")
    r = api.as_(admin).post(USERS, json={
        "username": "wang.wei", "password": "s3cret-passw0rd", "role": "officer",
        "display_name": "王伟", "email": "wang.wei@district.test", "locale": "en",
        "zone_ids": [zone_b.id, zone_a.id]})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert set(created) == {"id", "username", "display_name", "role", "zones", "company",
                            "email", "locale", "active", "created_at"}
    assert (created["username"], created["display_name"], created["role"], created["email"],
            created["locale"], created["active"], created["company"]) == (
        "wang.wei", "王伟", "officer", "wang.wei@district.test", "en", True, None)
    assert [z["code"] for z in created["zones"]] == ["ZA", "ZB"]
    assert "password" not in str(created) and "hash" not in str(created)

    signed_in = login(api, "wang.wei", "s3cret-passw0rd")
    assert signed_in.status_code == 200
    token = signed_in.get_json()["token"]
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["id"] == created["id"] and me["role"] == "officer"
    case = api.client.post("/api/v1/cases", headers={"Authorization": f"Bearer {token}"},
                           json={"kind": "shed", "compound_id": make.compound(zone_a).id})
    assert case.status_code == 201 and case.get_json()["officer_id"] == created["id"]

    assert api.as_(admin).get(f"{USERS}/{created['id']}").get_json() == created
    assert "wang.wei" in usernames(api, admin)


def test_a_company_user_belongs_to_a_company_and_a_district_supervisor_to_no_zone(api, make, admin):
    company = make.user("company", company="安居物业").company
    r = api.as_(admin).post(USERS, json={"username": "anju2", "password": "long-enough",
                                         "role": "company", "company_id": company.id})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["company"] == {"id": company.id, "name": "安居物业"}
    assert r.get_json()["display_name"] == "anju2"
    r = api.as_(admin).post(USERS, json={"username": "chief2", "password": "long-enough",
                                         "role": "supervisor"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["zones"] == []


def test_each_role_gets_only_what_it_needs_and_every_broken_rule_is_listed(api, make, admin):
    zone = make.zone("ZA")
    company = make.user("company", company="安居物业").company
    before = usernames(api, admin)
    cases = {
        "officer without a zone": ({"role": "officer"}, [("zone_ids", "required_for_role")]),
        "officer with a company": ({"role": "officer", "zone_ids": [zone.id],
                                    "company_id": company.id},
                                   [("company_id", "not_for_role")]),
        "company user without a company": ({"role": "company"},
                                           [("company_id", "required_for_role")]),
        "company user with zones": ({"role": "company", "company_id": company.id,
                                     "zone_ids": [zone.id]}, [("zone_ids", "not_for_role")]),
        "admin with zones and a company": ({"role": "admin", "zone_ids": [zone.id],
                                            "company_id": company.id},
                                           [("company_id", "not_for_role"),
                                            ("zone_ids", "not_for_role")]),
        "unknown zone and company": ({"role": "officer", "zone_ids": [zone.id, 999999],
                                      "company_id": 999998},
                                     [("company_id", "exists"), ("company_id", "not_for_role"),
                                      ("zone_ids", "exists")]),
        "unknown company for a company user": ({"role": "company", "company_id": 999998},
                                               [("company_id", "exists")]),
    }
    for label, (fields, expected) in cases.items():
        r = api.as_(admin).post(USERS, json={"username": "new.user", "password": "long-enough",
                                             **fields})
        assert (label, failed_fields(r)) == (label, expected)
    assert usernames(api, admin) == before


def test_invalid_user_bodies_are_refused_with_every_field_named(api, make, admin):
    r = api.as_(admin).post(USERS, json={"username": "有 空格", "password": "short",
                                         "role": "mayor", "email": "not-an-address",
                                         "locale": "fr", "zone_ids": ["1"], "colour": "red"})
    assert [f for f, _ in failed_fields(r)] == ["colour", "email", "locale", "password", "role",
                                                "username", "zone_ids.0"]
    assert [f for f, _ in failed_fields(api.as_(admin).post(USERS, json={}))] == [
        "password", "role", "username"]
    assert error(api.as_(admin).post(USERS, data="{", content_type="application/json"),
                 400)["code"] == "bad_request"
    assert error(api.as_(admin).post(USERS, data="username=x"), 415)["code"] == (
        "unsupported_media_type")
    assert usernames(api, admin) == ["root"]


def test_a_taken_username_is_a_conflict(api, make, admin):
    make.user("officer", [make.zone()], username="li.na")
    r = api.as_(admin).post(USERS, json={"username": "li.na", "password": "long-enough",
                                         "role": "admin"})
    assert error(r, 409)["code"] == "duplicate"
    assert usernames(api, admin).count("li.na") == 1


def test_the_user_list_filters_and_pages(api, make, admin):
    zone_a, zone_b = make.zone("ZA"), make.zone("ZB")
    make.user("officer", [zone_a], username="a.officer")
    make.user("officer", [zone_b], username="b.officer")
    make.user("supervisor", [zone_a, zone_b], username="ab.boss")
    make.user("company", company="安居物业", username="anju")
    gone = make.user("officer", [zone_a], username="gone.officer")
    api.as_(admin).patch(f"{USERS}/{gone.id}", json={"active": False})
    as_admin = api.as_(admin)

    def names(query: str) -> list[str]:
        response = as_admin.get(f"{USERS}?{query}")
        assert response.status_code == 200, response.get_json()
        return [u["username"] for u in response.get_json()["items"]]

    assert names("role=officer") == ["a.officer", "b.officer", "gone.officer"]
    assert names(f"zone={zone_a.id}") == ["a.officer", "ab.boss", "gone.officer"]
    assert names(f"zone={zone_a.id}&active=true") == ["a.officer", "ab.boss"]
    assert names("active=false") == ["gone.officer"]
    assert names("q=OFFICER&per_page=2&page=2") == ["gone.officer"]
    assert names("q=%25") == []  # searched literally
    page = as_admin.get(f"{USERS}?per_page=2").get_json()
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (1, 2, 6, 2)
    assert [f for f, _ in failed_fields(as_admin.get(f"{USERS}?role=mayor&page=0"))] == [
        "page", "role"]


@pytest.mark.parametrize("role", ["officer", "supervisor", "company"])
def test_only_admins_manage_users_and_companies(api, make, admin, role):
    zone = make.zone("ZA")
    user = make.user(role, [zone]) if role != "company" else make.user(role)
    target = make.user("officer", [zone], username="target")
    company = make.user("company", company="安居物业").company
    compound = make.compound(zone)
    before = usernames(api, admin)
    as_user = api.as_(user)
    attempts = {
        "list users": as_user.get(USERS),
        "read a user": as_user.get(f"{USERS}/{target.id}"),
        "read a missing user": as_user.get(f"{USERS}/999999"),
        "create a user": as_user.post(USERS, json={"username": "x.y", "password": "long-enough",
                                                   "role": "admin"}),
        "deactivate a user": as_user.patch(f"{USERS}/{target.id}", json={"active": False}),
        "promote oneself": as_user.patch(f"{USERS}/{user.id}", json={"role": "admin",
                                                                     "zone_ids": []}),
        "create a company": as_user.post(COMPANIES, json={"name": "新物业"}),
        "read a company": as_user.get(f"{COMPANIES}/{company.id}"),
        "change a company": as_user.patch(f"{COMPANIES}/{company.id}",
                                          json={"webhook_url": "https://evil.test/hook"}),
        "rotate a secret": as_user.post(f"{COMPANIES}/{company.id}/secret"),
        "rename a zone": as_user.patch(f"/api/v1/zones/{zone.id}", json={"name": "改名"}),
        "rename a compound": as_user.patch(f"/api/v1/compounds/{compound.id}",
                                           json={"name": "改名"}),
    }
    for label, response in attempts.items():
        assert (label, error(response, 403)["code"]) == (label, "forbidden")
    assert usernames(api, admin) == before
    seen = api.as_(admin)
    assert seen.get(f"{USERS}/{target.id}").get_json()["active"] is True
    assert seen.get(f"{USERS}/{user.id}").get_json()["role"] == role
    assert seen.get(f"{COMPANIES}/{company.id}").get_json()["webhook_url"] is None
    assert "新物业" not in [c["name"] for c in seen.get(COMPANIES).get_json()["items"]]
    assert seen.get("/api/v1/zones").get_json()["items"][0]["name"] == zone.name
    assert seen.get("/api/v1/compounds").get_json()["items"][0]["name"] == compound.name


def test_an_unknown_user_or_company_is_404_for_an_admin(api, admin):
    as_admin = api.as_(admin)
    for response in (as_admin.get(f"{USERS}/999999"),
                     as_admin.patch(f"{USERS}/999999", json={"active": False}),
                     as_admin.get(f"{COMPANIES}/999999"),
                     as_admin.patch(f"{COMPANIES}/999999", json={"name": "无"}),
                     as_admin.post(f"{COMPANIES}/999999/secret"),
                     as_admin.patch("/api/v1/zones/999999", json={"name": "无"}),
                     as_admin.patch("/api/v1/compounds/999999", json={"name": "无"})):
        assert error(response, 404)["code"] == "not_found"


def test_deactivating_a_user_revokes_its_tokens_and_stops_its_sign_in(api, make, admin):
    zone = make.zone()
    officer = make.user("officer", [zone])
    token = make.token(officer)
    other_token = make.token(officer)
    as_officer = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/me", headers=as_officer).status_code == 200

    r = api.as_(admin).patch(f"{USERS}/{officer.id}", json={"active": False})
    assert r.status_code == 200 and r.get_json()["active"] is False
    for t in (token, other_token):
        assert error(api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {t}"}),
                     401)["code"] == "unauthorized"
    assert login(api, officer.username, PASSWORD).status_code == 401

    r = api.as_(admin).patch(f"{USERS}/{officer.id}", json={"active": True})
    assert r.status_code == 200 and r.get_json()["active"] is True
    # Activating again lets the user sign in anew; the revoked tokens stay dead.
    assert api.client.get("/api/v1/me", headers=as_officer).status_code == 401
    assert login(api, officer.username, PASSWORD).status_code == 200


def test_resetting_a_password_replaces_it_and_revokes_the_users_tokens(api, make, admin):
    officer = make.user("officer", [make.zone()])
    token = make.token(officer)
    r = api.as_(admin).patch(f"{USERS}/{officer.id}", json={"password": " new pass phrase "})
    assert r.status_code == 200, r.get_json()
    assert api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                          ).status_code == 401
    assert login(api, officer.username, PASSWORD).status_code == 401
    assert login(api, officer.username, " new pass phrase ").status_code == 200
    short = api.as_(admin).patch(f"{USERS}/{officer.id}", json={"password": "short"})
    assert failed_fields(short) == [("password", "string_too_short")]


def test_moving_an_officer_to_another_zone_changes_what_it_sees(api, make, admin):
    zone_a, zone_b = make.zone("ZA"), make.zone("ZB")
    officer = make.user("officer", [zone_a])
    boss = make.user("supervisor")
    case_a = api.as_(boss).create_case(make.compound(zone_a))
    case_b = api.as_(boss).create_case(make.compound(zone_b))
    assert case_ids(api, officer) == [case_a["id"]]

    r = api.as_(admin).patch(f"{USERS}/{officer.id}", json={"zone_ids": [zone_b.id]})
    assert r.status_code == 200, r.get_json()
    assert [z["code"] for z in r.get_json()["zones"]] == ["ZB"]
    assert case_ids(api, officer) == [case_b["id"]]
    assert failed_fields(api.as_(admin).patch(f"{USERS}/{officer.id}", json={"zone_ids": []})
                         ) == [("zone_ids", "required_for_role")]
    assert case_ids(api, officer) == [case_b["id"]]


def test_changing_a_role_brings_its_zones_or_company_along(api, make, admin):
    zone = make.zone("ZA")
    company = make.user("company", company="安居物业").company
    officer = make.user("officer", [zone])
    as_admin = api.as_(admin)
    assert failed_fields(as_admin.patch(f"{USERS}/{officer.id}", json={"role": "company"})) == [
        ("company_id", "required_for_role"), ("zone_ids", "not_for_role")]
    r = as_admin.patch(f"{USERS}/{officer.id}", json={"role": "company", "zone_ids": [],
                                                      "company_id": company.id})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["role"], r.get_json()["zones"], r.get_json()["company"]["id"]) == (
        "company", [], company.id)
    assert error(api.as_(officer).get("/api/v1/cases"), 403)["code"] == "forbidden"
    back = as_admin.patch(f"{USERS}/{officer.id}", json={"role": "officer",
                                                         "zone_ids": [zone.id]})
    assert failed_fields(back) == [("company_id", "not_for_role")]
    back = as_admin.patch(f"{USERS}/{officer.id}", json={"role": "officer", "company_id": None,
                                                         "zone_ids": [zone.id]})
    assert back.status_code == 200 and back.get_json()["company"] is None


def test_names_email_and_language_change_and_nulls_are_refused_where_they_make_no_sense(
        api, make, admin):
    officer = make.user("officer", [make.zone()], email="old@district.test")
    as_admin = api.as_(admin)
    r = as_admin.patch(f"{USERS}/{officer.id}", json={"display_name": "李娜", "locale": "en",
                                                      "email": None})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["display_name"], r.get_json()["locale"], r.get_json()["email"]) == (
        "李娜", "en", None)
    assert failed_fields(as_admin.patch(f"{USERS}/{officer.id}", json={
        "display_name": None, "role": None, "active": None})) == [
        ("active", "not_null"), ("display_name", "not_null"), ("role", "not_null")]
    assert failed_fields(as_admin.patch(f"{USERS}/{officer.id}", json={})) == [
        (None, "not_empty")]
    assert failed_fields(as_admin.patch(f"{USERS}/{officer.id}", json={"username": "renamed"})
                         ) == [("username", "extra_forbidden")]
    assert as_admin.get(f"{USERS}/{officer.id}").get_json()["display_name"] == "李娜"


def test_an_admin_cannot_lock_itself_out(api, make, admin):
    as_admin = api.as_(admin)
    assert failed_fields(as_admin.patch(f"{USERS}/{admin.id}", json={
        "active": False, "role": "supervisor"})) == [("active", "not_self"), ("role", "not_self")]
    me = as_admin.get(f"{USERS}/{admin.id}").get_json()
    assert (me["active"], me["role"]) == (True, "admin")
    # Another admin may be deactivated; then it can administer nothing.
    other = make.user("admin")
    other_token = make.token(other)
    assert as_admin.patch(f"{USERS}/{other.id}", json={"active": False}).status_code == 200
    assert api.client.get(USERS, headers={"Authorization": f"Bearer {other_token}"}
                          ).status_code == 401


def test_creating_a_user_with_an_idempotency_key_happens_once(api, make, admin):
    zone = make.zone()
    body = {"username": "zhao.lei", "password": "long-enough", "role": "officer",
            "zone_ids": [zone.id]}
    headers = {"Idempotency-Key": "create-zhao-lei"}
    first = api.as_(admin).post(USERS, json=body, headers=headers)
    again = api.as_(admin).post(USERS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert usernames(api, admin).count("zhao.lei") == 1
    other = api.as_(admin).post(USERS, json={**body, "username": "other"}, headers=headers)
    assert error(other, 422)["code"] == "idempotency_key_reused"


# Companies ----------------------------------------------------------------------------------

def test_a_company_gets_its_webhook_secret_once_and_never_again(api, make, admin):
    as_admin = api.as_(admin)
    r = as_admin.post(COMPANIES, json={"name": "安居物业", "contact": "张经理 000-0000",
                                       "webhook_url": "https://anju.example/casework"})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    secret = created.pop("webhook_secret")
    assert len(secret) >= 32
    assert (created["name"], created["contact"], created["webhook_url"],
            created["has_webhook_secret"]) == ("安居物业", "张经理 000-0000",
                                               "https://anju.example/casework", True)
    shown = as_admin.get(f"{COMPANIES}/{created['id']}").get_json()
    assert shown == created
    officer = make.user("officer", [make.zone()])
    listed = api.as_(officer).get(COMPANIES).get_json()["items"]
    assert listed == [{"id": created["id"], "name": "安居物业"}]
    changed = as_admin.patch(f"{COMPANIES}/{created['id']}",
                             json={"contact": None, "webhook_url": "https://anju.example/v2"})
    assert changed.status_code == 200
    assert (changed.get_json()["contact"], changed.get_json()["webhook_url"]) == (
        None, "https://anju.example/v2")
    for response in (shown, listed, changed.get_json(),
                     as_admin.get(f"{COMPANIES}/{created['id']}").get_json(),
                     as_admin.get(COMPANIES).get_json()):
        assert secret not in str(response)


def test_the_webhook_is_signed_with_the_secret_shown_and_then_with_the_rotated_one(app, api,
                                                                                   make, admin):
    app.config["CASEWORK_RING_DOORBELL"] = False
    receiver = WebhookReceiver("unknown until the company is created").start()
    try:
        as_admin = api.as_(admin)
        company = as_admin.post(COMPANIES, json={"name": "安居物业",
                                                 "webhook_url": receiver.url}).get_json()
        receiver.secret = company["webhook_secret"]
        zone = make.zone()
        officer = make.user("officer", [zone])
        case = api.as_(officer).create_case(make.compound(zone))
        due = (clock.now() + timedelta(days=5)).date().isoformat()

        def issue() -> None:
            r = api.as_(officer).post(f"/api/v1/cases/{case['id']}/workorders", json={
                "company_id": company["id"], "kind": "clear_debris", "due_date": due})
            assert r.status_code == 201, r.get_json()

        issue()
        assert deliver_pending() == 1
        rotated = as_admin.post(f"{COMPANIES}/{company['id']}/secret")
        assert rotated.status_code == 200, rotated.get_json()
        new_secret = rotated.get_json()["webhook_secret"]
        assert new_secret != company["webhook_secret"]
        issue()
        assert deliver_pending() == 0  # the receiver still holds the old secret: refused
        receiver.secret = new_secret
        with clock.frozen(clock.now() + timedelta(hours=1)):
            assert deliver_pending() == 1
    finally:
        receiver.stop()
    assert len(receiver.accepted) == 2 and len(receiver.rejected) == 1


def test_company_names_are_unique_and_webhook_addresses_are_http(api, admin):
    as_admin = api.as_(admin)
    first = as_admin.post(COMPANIES, json={"name": "安居物业"}).get_json()
    second = as_admin.post(COMPANIES, json={"name": "乐家物业"}).get_json()
    assert error(as_admin.post(COMPANIES, json={"name": "安居物业"}), 409)["code"] == "duplicate"
    assert error(as_admin.patch(f"{COMPANIES}/{second['id']}", json={"name": "安居物业"}),
                 409)["code"] == "duplicate"
    assert failed_fields(as_admin.post(COMPANIES, json={
        "name": "", "webhook_url": "ftp://files.example/x"})) == [
        ("name", "string_too_short"), ("webhook_url", "string_pattern_mismatch")]
    assert failed_fields(as_admin.patch(f"{COMPANIES}/{first['id']}", json={"name": None})
                         ) == [("name", "not_null")]
    assert failed_fields(as_admin.patch(f"{COMPANIES}/{first['id']}", json={})
                         ) == [(None, "not_empty")]
    names = [c["name"] for c in as_admin.get(COMPANIES).get_json()["items"]]
    assert names == ["乐家物业", "安居物业"]


def test_creating_a_company_with_an_idempotency_key_replays_the_same_secret(api, admin):
    headers = {"Idempotency-Key": "create-anju"}
    first = api.as_(admin).post(COMPANIES, json={"name": "安居物业"}, headers=headers)
    again = api.as_(admin).post(COMPANIES, json={"name": "安居物业"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert len(api.as_(admin).get(COMPANIES).get_json()["items"]) == 1


# Zones and compounds ------------------------------------------------------------------------

def test_an_admin_renames_a_zone_and_a_compound(api, make, admin):
    zone = make.zone("ZA")
    compound = make.compound(zone)
    as_admin = api.as_(admin)
    r = as_admin.patch(f"/api/v1/zones/{zone.id}", json={"name": "东片区"})
    assert r.status_code == 200 and r.get_json() == {"id": zone.id, "code": "ZA",
                                                     "name": "东片区"}
    r = as_admin.patch(f"/api/v1/compounds/{compound.id}", json={"address": "幸福路2号"})
    assert r.status_code == 200
    assert r.get_json() == {"id": compound.id, "zone_id": zone.id, "name": compound.name,
                            "address": "幸福路2号"}
    r = as_admin.patch(f"/api/v1/compounds/{compound.id}", json={"name": "幸福小区"})
    assert (r.get_json()["name"], r.get_json()["address"]) == ("幸福小区", "幸福路2号")
    assert as_admin.get("/api/v1/compounds").get_json()["items"] == [r.get_json()]
    assert as_admin.get("/api/v1/zones").get_json()["items"][0]["name"] == "东片区"


def test_renaming_places_is_validated(api, make, admin):
    zone = make.zone("ZA")
    first, second = make.compound(zone), make.compound(zone)
    elsewhere = make.compound(make.zone("ZB"))
    as_admin = api.as_(admin)
    assert error(as_admin.patch(f"/api/v1/compounds/{second.id}", json={"name": first.name}),
                 409)["code"] == "duplicate"
    assert as_admin.patch(f"/api/v1/compounds/{elsewhere.id}",
                          json={"name": first.name}).status_code == 200
    assert failed_fields(as_admin.patch(f"/api/v1/zones/{zone.id}", json={
        "name": "", "code": "ZZ"})) == [("code", "extra_forbidden"), ("name", "string_too_short")]
    assert failed_fields(as_admin.patch(f"/api/v1/compounds/{first.id}", json={
        "name": None, "address": None})) == [("address", "not_null"), ("name", "not_null")]
    assert failed_fields(as_admin.patch(f"/api/v1/compounds/{first.id}", json={})) == [
        (None, "not_empty")]
    assert [c["name"] for c in as_admin.get(f"/api/v1/compounds?zone_id={zone.id}"
                                            ).get_json()["items"]] == sorted(
        [first.name, second.name])
