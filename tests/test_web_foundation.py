"""What every page shares: signing in and out, the start page of each role, the language,
CSRF on every form, sessions that end, the 404 page and the inbox."""
from __future__ import annotations

from datetime import timedelta

import pytest

from casework.extensions import db
from casework.notifications.models import Notification, NotificationKind
from tests.web import form_token, page_text, post_form, sign_in


def test_the_root_is_the_sign_in_page_for_a_visitor(client):
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert "登录" in page_text(response.text)
    assert 'name="password"' in response.text


@pytest.mark.parametrize("role, home", [("officer", "/today"), ("company", "/workorders"),
                                        ("supervisor", "/dashboard"), ("admin", "/admin/users")])
def test_each_role_starts_on_its_own_page(client, make, role, home):
    user = make.user(role, zones=[make.zone()] if role in ("officer", "supervisor") else [])
    sign_in(client, user)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == home


def test_a_wrong_password_is_refused_with_words_and_no_session(client, make):
    user = make.user("officer", zones=[make.zone()])
    page = client.get("/login")
    response = client.post("/login", data={"username": user.username, "password": "wrong",
                                           "csrf_token": form_token(page.text)})
    assert response.status_code == 401
    assert "用户名或密码错误" in page_text(response.text)
    assert client.get("/inbox").status_code == 302


def test_a_page_sends_a_visitor_to_sign_in_and_back(client, make):
    user = make.user("officer", zones=[make.zone()])
    response = client.get("/inbox")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = client.get(response.headers["Location"])
    back = client.post(response.headers["Location"],
                       data={"username": user.username, "password": "test-password-1",
                             "csrf_token": form_token(page.text)})
    assert back.status_code == 303 and back.headers["Location"] == "/inbox"


def test_sign_in_never_sends_the_user_to_another_site(client, make):
    user = make.user("officer", zones=[make.zone()])
    page = client.get("/login")
    response = client.post("/login?next=//evil.example/x",
                           data={"username": user.username, "password": "test-password-1",
                                 "csrf_token": form_token(page.text)})
    assert response.headers["Location"] == "/"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, make):
    user = make.user("officer", zones=[make.zone()])
    db.session.commit()
    sign_in(client, user)
    unread_before = db.session.query(Notification).filter_by(user_id=user.id,
                                                             read_at=None).count()
    response = client.post("/inbox/read", data={})
    assert response.status_code == 400
    assert "表单已过期" in page_text(response.text)
    assert db.session.query(Notification).filter_by(user_id=user.id,
                                                    read_at=None).count() == unread_before
    # Signing in without the token is refused too.
    client.post("/logout", data={"csrf_token": form_token(client.get("/inbox").text)})
    assert client.post("/login", data={"username": user.username,
                                       "password": "test-password-1"}).status_code == 400


def test_sign_out_ends_the_session(client, make):
    user = make.user("officer", zones=[make.zone()])
    sign_in(client, user)
    assert client.get("/inbox").status_code == 200
    response = post_form(client, "/logout", page=client.get("/logout").text)
    assert response.status_code == 303
    assert client.get("/inbox").status_code == 302


def test_a_session_ends_after_the_configured_hours(app, client, make):
    user = make.user("officer", zones=[make.zone()])
    sign_in(client, user)
    assert app.permanent_session_lifetime == timedelta(hours=app.config["CASEWORK_SESSION_HOURS"])
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
    assert cookie.http_only


def test_the_language_is_chosen_with_lang_and_remembered(client, make):
    user = make.user("officer", zones=[make.zone()])
    sign_in(client, user)
    assert "收件箱" in page_text(client.get("/inbox").text)
    english = client.get("/inbox?lang=en")
    assert "Inbox" in page_text(english.text) and '<html lang="en">' in english.text
    assert "Inbox" in page_text(client.get("/inbox").text)
    assert "收件箱" in page_text(client.get("/inbox?lang=zh").text)


def test_an_unknown_page_is_the_404_page_in_the_users_language(client, make):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "页面不存在" in page_text(response.text)
    # The API keeps its JSON errors.
    assert client.get("/api/v1/no-such-thing").is_json


def test_pages_carry_a_policy_that_allows_no_inline_script(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.text and " onclick=" not in response.text


def test_the_inbox_shows_the_unread_count_and_marks_read(client, make):
    user = make.user("officer", zones=[make.zone()])
    for n in range(3):
        db.session.add(Notification(channel="inbox", kind=list(NotificationKind)[0],
                                    user_id=user.id, subject=f"通知{n}", body="正文"))
    db.session.commit()
    sign_in(client, user)
    page = client.get("/inbox")
    assert 'id="unread-count">3<' in page.text
    assert all(f"通知{n}" in page_text(page.text) for n in range(3))
    first = db.session.query(Notification).filter_by(user_id=user.id).first()
    response = post_form(client, f"/inbox/{first.id}/read", page=page.text,
                         headers={"HX-Request": "true"})
    assert response.status_code == 200 and "通知" in response.text
    assert 'id="unread-count">2<' in client.get("/inbox").text
    post_form(client, "/inbox/read", page=page.text)
    assert 'id="unread-count"' not in client.get("/inbox").text


def test_another_users_notification_is_the_404_page(client, make):
    zone = make.zone()
    owner, other = make.user("officer", zones=[zone]), make.user("officer", zones=[zone])
    db.session.add(Notification(channel="inbox", kind=list(NotificationKind)[0],
                                user_id=owner.id, subject="私人", body="正文"))
    db.session.commit()
    row = db.session.query(Notification).filter_by(user_id=owner.id).one()
    sign_in(client, other)
    response = post_form(client, f"/inbox/{row.id}/read", page=client.get("/inbox").text)
    assert response.status_code == 404
    db.session.refresh(row)
    assert row.read_at is None


def test_the_service_worker_is_served_from_the_root_and_never_kept_stale(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "pageFromNetworkFirst" in response.get_data(as_text=True)


def test_the_offline_page_and_the_outbox(client, make):
    offline = client.get("/offline")
    assert offline.status_code == 200 and "无网络" in page_text(offline.text)
    assert client.get("/outbox").status_code == 302
    sign_in(client, make.user("officer", zones=[make.zone()]))
    outbox = client.get("/outbox")
    assert outbox.status_code == 200 and 'id="outbox-list"' in outbox.text
    assert "js/offline.js" in outbox.text and "js/outbox.js" in outbox.text


def test_a_page_form_retried_with_its_key_is_applied_once(client, make):
    user = make.user("officer", zones=[make.zone()])
    for n in range(2):
        db.session.add(Notification(channel="inbox", kind=list(NotificationKind)[0],
                                    user_id=user.id, subject=f"通知{n}", body="正文"))
    db.session.commit()
    sign_in(client, user)
    page = client.get("/inbox").text
    first = post_form(client, "/inbox/read", page=page, headers={"Idempotency-Key": "k-1"})
    again = post_form(client, "/inbox/read", page=page, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers.get("Idempotent-Replayed") == "true"
