"""Factories and an API client that logs in as a given user, shared by the tests."""
from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from casework import clock
from casework.accounts.models import Role, User
from casework.accounts.operations import create_user, get_or_create_company, issue_token
from casework.cases.models import Case
from casework.evidence import samples
from casework.extensions import db
from casework.places.models import Compound, Zone
from casework.places.operations import create_compound, create_zone

PASSWORD = "test-password-1"


class Factory:
    """Builds committed rows through the application's own operations."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def zone(self, code: str | None = None) -> Zone:
        n = self._next()
        zone = create_zone(code or f"Z{n}", f"测试片区{n}")
        db.session.commit()
        return zone

    def compound(self, zone: Zone | None = None) -> Compound:
        zone = zone or self.zone()
        compound = create_compound(zone.id, f"测试小区{self._next()}", "测试路1号")
        db.session.commit()
        return compound

    def user(self, role: Role | str, zones: list[Zone] = (), company: str | None = None,
             username: str | None = None, email: str | None = None) -> User:
        role = Role(role)
        if role is Role.COMPANY and company is None:
            company = f"测试物业{self._next()}"
        user = create_user(username or f"{role.value}{self._next()}", PASSWORD, role,
                           zones=list(zones),
                           company=get_or_create_company(company) if company else None)
        user.email = email
        db.session.commit()
        return user

    def token(self, user: User) -> str:
        token = issue_token(user)
        db.session.commit()
        return token

    def set_due_at(self, case_id: int, days_from_now: float) -> None:
        """Moves a case's deadline, as time passing would (bypasses the version counter)."""
        db.session.execute(update(Case).where(Case.id == case_id)
                           .values(due_at=clock.now() + timedelta(days=days_from_now))
                           .execution_options(synchronize_session=False))
        db.session.commit()
        db.session.expire_all()


class Api:
    """``api.as_(user).post(path, json=...)`` — requests with that user's bearer token."""

    def __init__(self, client: FlaskClient, make: Factory, token: str | None = None) -> None:
        self.client = client
        self.make = make
        self.token = token
        self._tokens: dict[int, str] = {}

    def as_(self, user: User) -> "Api":
        token = self._tokens.get(user.id) or self.make.token(user)
        self._tokens[user.id] = token
        other = Api(self.client, self.make, token)
        other._tokens = self._tokens
        return other

    def _headers(self, extra: dict | None) -> dict:
        headers = dict(extra or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def get(self, path: str, **kw: Any):
        return self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, **kw: Any):
        return self.client.post(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path: str, **kw: Any):
        return self.client.patch(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, path: str, **kw: Any):
        return self.client.put(path, headers=self._headers(kw.pop("headers", None)), **kw)

    # Domain helpers -----------------------------------------------------------------------

    def create_case(self, compound: Compound, **fields: Any) -> dict:
        body = {"kind": "shed", "compound_id": compound.id, **fields}
        response = self.post("/api/v1/cases", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def attach(self, case_id: int, kind: str, data: bytes | None = None,
               filename: str = "file.png"):
        data = data if data is not None else samples.png(f"{case_id}-{kind}-{filename}")
        return self.post(f"/api/v1/cases/{case_id}/attachments",
                         data={"kind": kind, "file": (io.BytesIO(data), filename)},
                         content_type="multipart/form-data")

    def fire(self, case_id: int, trigger: str, **fields: Any):
        if "expected_version" not in fields:
            fields["expected_version"] = self.get(f"/api/v1/cases/{case_id}").get_json()["version"]
        return self.post(f"/api/v1/cases/{case_id}/transitions", json={"trigger": trigger, **fields})


    # The steps an officer takes, in order, with the evidence each step's guards ask for.
    STEPS = (("ownership_verified", "ownership_doc", "verify_ownership", {}),
             ("negotiated", "agreement", "negotiate", {"deadline": "+10"}),
             ("demolished", "after_photo", "demolish", {"method": "self"}))

    def case_in(self, compound: Compound, state: str, **fields: Any) -> dict:
        """A new case driven by this (officer's) client through the real API to ``state``:
        identified, ownership_verified, negotiated or demolished."""
        fields.setdefault("owner_name", "测试业主")
        case = self.create_case(compound, **fields)
        for reached, evidence, trigger, given in self.STEPS:
            if case["state"] == state:
                break
            assert self.attach(case["id"], evidence).status_code == 201
            given = {name: (local_day(int(value[1:])).isoformat()
                            if name == "deadline" else value) for name, value in given.items()}
            response = self.fire(case["id"], trigger, note="测试", **given)
            assert response.status_code == 200, response.get_json()
            case = response.get_json()
        assert case["state"] == state, f"no step leads to {state}"
        return case


def local_day(days_from_today: int) -> date:
    """A date in the district's time zone, as users give deadlines."""
    return clock.local_today() + timedelta(days=days_from_today)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The API's error shape, exactly: ``{"error": {"code", "message", "details"}}``."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
