"""The nightly housekeeping task forgets old idempotency keys and stale login failures, and
keeps the recent ones."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from casework import clock
from casework.accounts.models import ApiToken, LoginFailure
from casework.accounts.operations import hash_token
from casework.common.idempotency import IdempotencyRecord
from casework.extensions import db
from workers.tasks import housekeeping


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_housekeeping_drops_old_keys_and_failures_only(api, make, client):
    officer = make.user("officer", [make.zone()])
    compound = make.compound(officer.zones[0])
    for key in ("old-key", "new-key"):
        response = api.as_(officer).post("/api/v1/cases", json={"kind": "shed", "compound_id": compound.id},
                                         headers={"Idempotency-Key": key})
        assert response.status_code == 201
    db.session.execute(IdempotencyRecord.__table__.update()
                       .where(IdempotencyRecord.key == "old-key")
                       .values(created_at=clock.now() - timedelta(days=8)))
    client.post("/api/v1/auth/login", json={"username": officer.username, "password": "wrong"})
    db.session.add(LoginFailure(username=officer.username, at=clock.now() - timedelta(hours=2)))
    db.session.commit()

    assert housekeeping.run() == {"idempotency_records": 1, "login_failures": 1,
                                  "expired_tokens": 0}

    assert [r.key for r in db.session.scalars(select(IdempotencyRecord))] == ["new-key"]
    assert _count(LoginFailure) == 1


def test_housekeeping_purges_expired_tokens_and_keeps_the_rest(api, make, app):
    officer = make.user("officer", [make.zone()])
    expired, live = make.token(officer), make.token(officer)
    app.config["CASEWORK_TOKEN_DAYS"] = 0
    forever = make.token(officer)
    db.session.execute(ApiToken.__table__.update()
                       .where(ApiToken.token_hash == hash_token(expired))
                       .values(expires_at=clock.now() - timedelta(seconds=1)))
    db.session.commit()

    assert housekeeping.run()["expired_tokens"] == 1

    db.session.expire_all()
    remaining = set(db.session.scalars(select(ApiToken.token_hash)))
    assert remaining == {hash_token(live), hash_token(forever)}
    for token, status in ((expired, 401), (live, 200), (forever, 200)):
        assert api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                              ).status_code == status
