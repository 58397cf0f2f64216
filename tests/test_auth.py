"""Authentication (spec sections 8 and 9): login, bearer tokens, logout, /me (throttling:
test_login_throttling.py)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from casework import clock
from casework.accounts.models import ApiToken, Role, User
from casework.accounts.operations import create_user, hash_token
from casework.extensions import db
from tests.support import PASSWORD

LOGIN = "/api/v1/auth/login"
PUBLIC_ENDPOINTS = {"api.accounts.login", "api.openapi.openapi_json"}


def login(client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def expire(token: str) -> None:
    db.session.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token))
                       .values(expires_at=clock.now() - timedelta(minutes=1)))
    db.session.commit()


def api_routes(app: Flask) -> list[tuple[str, str]]:
    """Every (method, url) under /api/v1 that needs a token, ids filled in with 1."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = re.sub(r"<[^>]+>", "1", rule.rule)
        routes += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def database_text() -> str:
    """Every value of every row of every table, as one string."""
    dump = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            dump.append(" ".join(str(value) for value in row))
    return "\n".join(dump)


# Login ---------------------------------------------------------------------------------------

def test_login_returns_a_token_and_the_user_with_zones(client, make):
    zone_a, zone_b = make.zone("Z1"), make.zone("Z2")
    officer = make.user("officer", [zone_b, zone_a], username="officer-li")
    r = login(client, "officer-li")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    user = body["user"]
    assert user["id"] == officer.id
    assert user["username"] == "officer-li"
    assert user["role"] == "officer"
    assert user["zones"] == [{"id": zone_a.id, "code": "Z1", "name": zone_a.name},
                             {"id": zone_b.id, "code": "Z2", "name": zone_b.name}]
    assert user["company"] is None
    me = client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.get_json()["id"] == officer.id


def test_login_of_a_company_user_names_the_company(client, make):
    user = make.user("company", company="演示物业公司", username="wuye")
    r = login(client, "wuye")
    assert r.status_code == 200
    body = r.get_json()["user"]
    assert body["role"] == "company"
    assert body["zones"] == []
    assert body["company"] == {"id": user.company_id, "name": "演示物业公司"}


def test_wrong_password_and_unknown_user_are_refused_alike(client, make):
    make.user("officer", username="officer-wang")
    wrong_password = login(client, "officer-wang", "not-the-password")
    unknown_user = login(client, "nobody-here", PASSWORD)
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.get_json() == unknown_user.get_json()
    assert wrong_password.get_json()["error"]["code"] == "unauthorized"
    assert "token" not in wrong_password.get_json()


def test_an_inactive_user_cannot_log_in(client, make):
    user = make.user("supervisor", username="retired")
    user.active = False
    db.session.commit()
    r = login(client, "retired")
    assert r.status_code == 401
    assert r.get_json() == login(client, "nobody-here").get_json()


def test_a_password_is_compared_exactly_spaces_included(client):
    # Passwords set on the command line keep their spaces, so login must not trim them.
    create_user("officer-he", "  演示 密码 ", Role.OFFICER)
    db.session.commit()
    assert login(client, "officer-he", "  演示 密码 ").status_code == 200
    assert login(client, "officer-he", "演示 密码").status_code == 401


def test_a_malformed_login_is_refused_without_a_500(client):
    assert client.post(LOGIN, json={"username": "x"}).status_code == 422
    assert client.post(LOGIN, data="{not json", content_type="application/json").status_code == 400
    assert client.post(LOGIN, data="username=x", content_type="text/plain").status_code == 415


# Tokens ------------------------------------------------------------------------------------

def test_every_endpoint_except_login_and_openapi_needs_a_token(app, client, make):
    token = make.token(make.user("supervisor"))
    expired = make.token(make.user("supervisor"))
    expire(expired)
    routes = api_routes(app)
    assert len(routes) >= 15, routes  # the scan really found the API
    answers = {
        "no token": {},
        "bad token": bearer("not-a-token-that-was-ever-issued"),
        "expired token": bearer(expired),
        "wrong scheme": {"Authorization": f"Basic {token}"},
        "empty bearer": {"Authorization": "Bearer "},
    }
    wrong = []
    for label, headers in answers.items():
        for method, url in routes:
            r = client.open(url, method=method, headers=headers)
            if r.status_code != 401 or r.get_json()["error"]["code"] != "unauthorized":
                wrong.append((label, method, url, r.status_code))
    assert wrong == []
    # The open doors stay open.
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_an_expired_token_stops_working(client, make):
    user = make.user("officer")
    token = make.token(user)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    expire(token)
    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"


def test_a_deactivated_users_token_stops_working(client, make):
    user = make.user("officer")
    token = make.token(user)
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_tokens_and_passwords_are_stored_hashed(client, make):
    make.user("officer", username="officer-zhao")
    guessed = "a-guessed-password-77"
    assert login(client, "officer-zhao", guessed).status_code == 401
    token = login(client, "officer-zhao").get_json()["token"]
    stored = database_text()
    assert "officer-zhao" in stored  # the dump does see the users table
    assert token not in stored
    assert PASSWORD not in stored
    assert guessed not in stored
    user = db.session.scalar(select(User).where(User.username == "officer-zhao"))
    hashes = db.session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id)).all()
    assert hash_token(token) in hashes


def test_logout_revokes_the_token(client, make):
    make.user("officer", username="officer-sun")
    first = login(client, "officer-sun").get_json()["token"]
    second = login(client, "officer-sun").get_json()["token"]
    r = client.post("/api/v1/auth/logout", headers=bearer(first))
    assert r.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(first)).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 401
    # Only that token: the user's other session goes on.
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


# The current user and companies ---------------------------------------------------------------

def test_me_describes_the_current_user(api, make):
    zone = make.zone("Z7")
    supervisor = make.user("supervisor", [zone], username="zhihuibu")
    r = api.as_(supervisor).get("/api/v1/me")
    assert r.status_code == 200
    body = r.get_json()
    assert {k: body[k] for k in ("id", "username", "role", "zones", "company")} == {
        "id": supervisor.id, "username": "zhihuibu", "role": "supervisor",
        "zones": [{"id": zone.id, "code": "Z7", "name": zone.name}], "company": None}


@pytest.mark.parametrize("role", ["officer", "supervisor", "admin"])
def test_staff_list_companies(api, make, role):
    make.user("company", company="演示物业甲")
    make.user("company", company="演示物业乙")
    r = api.as_(make.user(role)).get("/api/v1/companies")
    assert r.status_code == 200
    assert sorted(c["name"] for c in r.get_json()["items"]) == sorted(["演示物业甲", "演示物业乙"])
    assert all(set(c) == {"id", "name"} for c in r.get_json()["items"])


def test_company_users_cannot_list_companies(api, make):
    r = api.as_(make.user("company")).get("/api/v1/companies")
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "forbidden"


# Health -------------------------------------------------------------------------------------

def test_health_needs_no_token_and_reports_the_database(client):
    r = client.get("/healthz")
    assert r.status_code in (200, 503)
    assert r.get_json()["database"] is True
