"""Password guessing is slowed where it comes from, and nobody is locked out by someone else:
failed logins are counted per (username, client address) and per address (one guess sprayed
over many usernames), the real user from its own address always gets in, and a user whose
account saw many failures is told in its inbox."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.notifications.models import Notification
from tests.support import PASSWORD

ATTACKER = {"REMOTE_ADDR": "198.51.100.7"}
OFFICE = {"REMOTE_ADDR": "203.0.113.20"}


def login(client, username: str, password: str = PASSWORD, where: dict = OFFICE):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       environ_base=where)


@pytest.fixture
def limits(app):
    app.config.update(CASEWORK_LOGIN_LIMIT="3 per 2 seconds",
                      CASEWORK_LOGIN_ADDRESS_LIMIT="6 per 2 seconds",
                      CASEWORK_LOGIN_NOTICE_FAILURES=5)


def test_guessing_one_users_password_is_slowed_but_its_owner_still_gets_in(client, make, limits):
    make.user("officer", username="officer-qian")
    for _ in range(3):
        assert login(client, "officer-qian", "wrong-password", ATTACKER).status_code == 401
    slowed = login(client, "officer-qian", PASSWORD, ATTACKER)  # even the right password
    assert slowed.status_code == 429
    assert slowed.get_json()["error"]["code"] == "too_many_requests"
    assert "token" not in slowed.get_json()
    assert int(slowed.headers["Retry-After"]) <= 2

    # The owner, from its own address, is not locked out by the attacker's failures.
    assert login(client, "officer-qian").status_code == 200


def test_a_slowed_address_may_try_again_after_the_window(client, make, limits):
    make.user("officer", username="officer-zheng")
    for _ in range(3):
        login(client, "officer-zheng", "wrong-password", ATTACKER)
    assert login(client, "officer-zheng", PASSWORD, ATTACKER).status_code == 429
    time.sleep(2.1)
    assert login(client, "officer-zheng", PASSWORD, ATTACKER).status_code == 200


def test_successful_logins_do_not_count(client, make, limits):
    make.user("officer", username="officer-zhou")
    for _ in range(8):
        assert login(client, "officer-zhou").status_code == 200


def test_one_guess_sprayed_over_many_usernames_is_slowed_per_address(client, make, limits):
    for n in range(8):
        make.user("officer", username=f"officer-spray{n}")
    answers = [login(client, f"officer-spray{n}", "123456", ATTACKER).status_code
               for n in range(8)]
    assert answers == [401] * 6 + [429] * 2
    assert login(client, "officer-spray7").status_code == 200  # elsewhere, unaffected


def test_the_user_is_told_in_its_inbox_when_its_account_saw_many_failures(api, client, make,
                                                                          limits):
    user = make.user("officer", username="officer-feng")
    addresses = [{"REMOTE_ADDR": f"192.0.2.{n}"} for n in range(1, 4)]
    for where in addresses:  # spread so that no address is slowed
        for _ in range(2):
            assert login(client, "officer-feng", "wrong-password", where).status_code == 401
    notices = db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.kind == "login_failures")).all()
    assert len(notices) == 1  # once, when the count reached the threshold, not per failure
    inbox = api.as_(user).get("/api/v1/notifications?kind=login_failures").get_json()
    assert inbox["total"] == 1
    assert "5" in inbox["items"][0]["body"]
    assert "wrong-password" not in inbox["items"][0]["body"]


def test_failures_for_an_unknown_username_notify_nobody(client, make, limits):
    for n in range(1, 4):
        for _ in range(2):
            login(client, "nobody-here", "x", {"REMOTE_ADDR": f"192.0.2.{n}"})
    assert db.session.scalars(select(Notification)).all() == []
