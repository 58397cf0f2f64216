"""Factories and an API client that logs in as a given user, shared by the tests."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable

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
        self.move(case_id, due_at=-days_from_now)

    def move(self, case_id: int, **days_ago: float) -> None:
        """Moves a case's times back (``created_at=3`` is three days ago), as days passing
        would (bypasses the version counter)."""
        now = clock.now()
        db.session.execute(update(Case).where(Case.id == case_id)
                           .values(**{column: now - timedelta(days=days)
                                      for column, days in days_ago.items()})
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


    def case_in(self, compound: Compound, state: str, **fields: Any) -> dict:
        """A new case driven by this client through the real API to ``state`` (an officer's
        client reaches identified, ownership_verified, negotiated, demolished or disputed);
        every step noted "测试"."""
        fields.setdefault("owner_name", "测试业主")

        def attach(case_id: int, kind: str) -> None:
            assert self.attach(case_id, kind).status_code == 201

        def fire(role: str, case_id: int, trigger: str, given: dict) -> dict:
            response = self.fire(case_id, trigger, **{"note": "测试", **given})
            assert response.status_code == 200, response.get_json()
            return response.get_json()

        return drive(self.create_case(compound, **fields), state, attach, fire)


# How a case reaches each state from the one before, along the spec's own path: the state it
# comes from, the files its guards ask for, the role that fires, the trigger, and what it is
# given (a deadline as days from today).
PATH: dict[str, tuple[str, tuple[str, ...], str, str, dict[str, Any]]] = {
    "ownership_verified": ("identified", ("ownership_doc",), "officer", "verify_ownership", {}),
    "negotiated": ("ownership_verified", ("agreement",), "officer", "negotiate", {"deadline": 10}),
    "demolished": ("negotiated", ("after_photo",), "officer", "demolish", {"method": "self"}),
    "closed": ("demolished", (), "supervisor", "close", {"note": "验收合格"}),
    "disputed": ("ownership_verified", (), "officer", "dispute", {"note": "户主对产权有异议"}),
    "dismissed": ("identified", ("other",), "supervisor", "dismiss", {"note": "合法建筑"}),
}


def drive(case: dict, state: str, attach: Callable[[int, str], None],
          fire: Callable[[str, int, str, dict], dict]) -> dict:
    """Takes ``case`` from its state to ``state`` along ``PATH``: each step's files attached,
    then its trigger fired as the role the spec gives it (``fire(role, case_id, trigger,
    fields)`` returns the case). Returns the case as the last step left it."""
    steps, reached = [], state
    while reached != case["state"]:
        assert reached in PATH, f"no step leads from {case['state']} to {state}"
        steps.append(reached)
        reached = PATH[reached][0]
    for reached in reversed(steps):
        _, kinds, role, trigger, given = PATH[reached]
        for kind in kinds:
            attach(case["id"], kind)
        fields = {name: (local_day(value).isoformat() if name == "deadline" else value)
                  for name, value in given.items()}
        case = fire(role, case["id"], trigger, fields)
        assert case["state"] == reached, case
    return case


@dataclass
class Zoned:
    """One zone of a test district: its compounds, its officer and its supervisor."""

    zone: Zone
    officer: User
    supervisor: User
    compounds: list[Compound]


class District:
    """A district built through the real operations: for each zone code, the zone with its
    compounds, officer and supervisor; and the district's supervisor (``chief``, no zone: the
    whole district), an admin and a company user. The first zone's are also ``zone``,
    ``compound``, ``officer`` and ``supervisor``; the second zone's officer is ``stranger``
    (an officer who may not see the first zone's cases). Cases are driven to any state through
    the real API (``case_in``)."""

    def __init__(self, api: Api, make: Factory, codes: tuple[str, ...] = ("ZA", "ZB"),
                 compounds: int = 1) -> None:
        self.api, self.make = api, make
        self.zones: dict[str, Zoned] = {}
        for code in codes:
            zone = make.zone(code)
            self.zones[code] = Zoned(zone, make.user("officer", [zone]),
                                     make.user("supervisor", [zone]),
                                     [make.compound(zone) for _ in range(compounds)])
        self.chief = make.user("supervisor")
        self.admin = make.user("admin")
        self.company = make.user("company")
        first = self.zones[codes[0]]
        self.zone, self.compound = first.zone, first.compounds[0]
        self.officer, self.supervisor = first.officer, first.supervisor
        self.stranger = self.zones[codes[1]].officer if len(codes) > 1 else None
        self.cases: dict[str, dict] = {}  # the cases a test's fixture made, by name

    def as_(self, user: User) -> Api:
        return self.api.as_(user)

    def new_case(self, code: str | None = None, compound: int = 0, **fields: Any) -> dict:
        """A new case in a compound of the zone ``code`` (the first zone's first compound by
        default), created by the zone's officer."""
        zoned = self.zones[code] if code else self.zones[next(iter(self.zones))]
        return self.as_(zoned.officer).create_case(zoned.compounds[compound], **fields)

    def attach(self, case_id: int, kind: str, by: User | None = None) -> None:
        response = self.as_(by or self.officer).attach(case_id, kind)
        assert response.status_code == 201, response.get_json()

    def fire(self, user: User, case_id: int, trigger: str, **fields: Any) -> dict:
        response = self.as_(user).fire(case_id, trigger, **fields)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def case(self, case_id: int) -> dict:
        """The case as its zone's supervisor sees it."""
        return self.as_(self.supervisor).get(f"/api/v1/cases/{case_id}").get_json()

    def events(self, case_id: int) -> list[dict]:
        """The case's history as its zone's supervisor sees it."""
        return self.as_(self.supervisor).get(f"/api/v1/cases/{case_id}/events").get_json()["items"]

    def case_in(self, state: str, code: str | None = None, compound: int = 0,
                fire: Callable[..., dict] | None = None, **fields: Any) -> dict:
        """A new case of the zone ``code`` driven through the real API to ``state``, each step
        fired by the zone's officer or supervisor as the spec says; ``fire(user, case_id,
        trigger, **fields)``, when given, fires each step instead (to check every step)."""
        zoned = self.zones[code] if code else self.zones[next(iter(self.zones))]
        fields.setdefault("owner_name", "测试业主")
        case = self.new_case(code, compound, **fields)
        fire = fire or self.fire
        who = {"officer": zoned.officer, "supervisor": zoned.supervisor}
        return drive(case, state, lambda case_id, kind: self.attach(case_id, kind, zoned.officer),
                     lambda role, case_id, trigger, given: fire(who[role], case_id, trigger,
                                                                **given))


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
