"""``Idempotency-Key`` on writes (spec section 9): a field officer's phone on a poor network
retries; the retry gets the first answer again, marked ``Idempotent-Replayed: true``, and
changes nothing.

Decided here: a refused request (4xx) is not recorded under its key, because it changed
nothing. Retrying it with the same key runs it again, so an officer who adds the missing photo
and retries succeeds, and a corrected body under the same key is accepted. Once a key has a
success recorded, it answers only that request.
"""
from __future__ import annotations

import io
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, func, select, text

from casework.cases.models import Case, CaseEvent
from casework.common.idempotency import IdempotencyRecord
from casework.evidence import samples
from casework.evidence.models import Attachment
from casework.extensions import db
from tests.support import Api, assert_error

REPLAYED = "Idempotent-Replayed"


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def counts() -> dict[str, int]:
    return {m.__name__: count(m) for m in (Case, CaseEvent, Attachment, IdempotencyRecord)}


def with_key(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


@pytest.fixture
def site(api: Api, make) -> SimpleNamespace:
    zone = make.zone()
    compound = make.compound(zone)
    officer = api.as_(make.user("officer", [zone]))
    case = officer.create_case(compound, owner_name="演示户主", owner_phone="000-0000-0001")
    return SimpleNamespace(zone=zone, compound=compound, officer=officer, case_id=case["id"],
                           case_path=f"/api/v1/cases/{case['id']}",
                           new_case={"kind": "shed", "compound_id": compound.id})


def assert_replays(first, retry) -> None:
    assert REPLAYED not in first.headers
    assert retry.headers.get(REPLAYED) == "true"
    assert retry.status_code == first.status_code
    assert retry.get_json() == first.get_json()


def test_a_retried_case_creation_returns_the_first_answer_and_creates_one_case(site):
    before = counts()
    first = site.officer.post("/api/v1/cases", json=site.new_case, headers=with_key("create-1"))
    assert first.status_code == 201
    retry = site.officer.post("/api/v1/cases", json=site.new_case, headers=with_key("create-1"))
    assert_replays(first, retry)
    after = counts()
    assert after["Case"] == before["Case"] + 1
    assert after["CaseEvent"] == before["CaseEvent"] + 1


def test_a_retried_transition_returns_the_first_answer_and_records_one_event(site):
    assert site.officer.attach(site.case_id, "ownership_doc").status_code == 201
    body = {"trigger": "verify_ownership", "note": "产权已核实",
            "expected_version": site.officer.get(site.case_path).get_json()["version"]}
    first = site.officer.post(f"{site.case_path}/transitions", json=body, headers=with_key("t-1"))
    assert first.status_code == 200, first.get_json()
    before = counts()
    retry = site.officer.post(f"{site.case_path}/transitions", json=body, headers=with_key("t-1"))
    assert_replays(first, retry)
    assert counts() == before
    assert site.officer.get(site.case_path).get_json()["version"] == first.get_json()["version"]
    # Without the key the same retry is what it would be on a flaky network: a stale version.
    unkeyed = site.officer.post(f"{site.case_path}/transitions", json=body)
    assert_error(unkeyed, 409, "stale_version")


def test_a_retried_edit_returns_the_first_answer_and_edits_once(site):
    body = {"expected_version": 1, "address": "测试路9号", "difficulty": 4}
    first = site.officer.patch(site.case_path, json=body, headers=with_key("edit-1"))
    assert first.status_code == 200, first.get_json()
    before = counts()
    retry = site.officer.patch(site.case_path, json=body, headers=with_key("edit-1"))
    assert_replays(first, retry)
    assert counts() == before
    current = site.officer.get(site.case_path).get_json()
    assert (current["address"], current["version"]) == ("测试路9号", first.get_json()["version"])


def test_a_retried_upload_returns_the_first_answer_and_stores_one_attachment(site):
    photo = samples.png("idempotent upload")

    def send():
        return site.officer.post(f"{site.case_path}/attachments",
                                 data={"kind": "before_photo",
                                       "file": (io.BytesIO(photo), "a.png")},
                                 content_type="multipart/form-data", headers=with_key("up-1"))

    first = send()
    assert first.status_code == 201, first.get_json()
    before = counts()
    retry = send()  # a fresh multipart boundary: the same request all the same
    assert_replays(first, retry)
    assert counts() == before
    history = site.officer.get(f"{site.case_path}/events").get_json()["items"]
    assert [e["trigger"] for e in history].count("attach") == 1


@pytest.mark.parametrize("second", ["other-body", "other-path", "other-method"])
def test_the_same_key_for_a_different_request_is_422_and_changes_nothing(site, second):
    first = site.officer.post("/api/v1/cases", json=site.new_case, headers=with_key("k"))
    assert first.status_code == 201
    before = counts()
    if second == "other-body":
        response = site.officer.post("/api/v1/cases", json={**site.new_case, "difficulty": 5},
                                     headers=with_key("k"))
    elif second == "other-path":
        response = site.officer.post(f"{site.case_path}/transitions", headers=with_key("k"),
                                     json={"trigger": "verify_ownership", "expected_version": 1})
    else:
        response = site.officer.patch(site.case_path, json={"expected_version": 1,
                                                            "address": "测试路5号"},
                                      headers=with_key("k"))
    assert_error(response, 422, "idempotency_key_reused")
    assert REPLAYED not in response.headers
    assert counts() == before
    assert site.officer.get(site.case_path).get_json()["version"] == 1


def test_keys_belong_to_their_user(api, make, site):
    colleague = api.as_(make.user("officer", [site.zone]))
    mine = site.officer.post("/api/v1/cases", json=site.new_case, headers=with_key("shared"))
    theirs = colleague.post("/api/v1/cases", json=site.new_case, headers=with_key("shared"))
    assert mine.status_code == theirs.status_code == 201
    assert REPLAYED not in theirs.headers
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert theirs.get_json()["officer_id"] != mine.get_json()["officer_id"]
    # Each user's retry replays that user's own answer.
    again = colleague.post("/api/v1/cases", json=site.new_case, headers=with_key("shared"))
    assert_replays(theirs, again)


def test_writes_without_a_key_are_not_deduplicated(site):
    before = count(Case)
    for _ in range(2):
        response = site.officer.post("/api/v1/cases", json=site.new_case)
        assert response.status_code == 201 and REPLAYED not in response.headers
    assert count(Case) == before + 2


def test_a_refused_transition_is_not_recorded_so_its_retry_runs_again(site):
    """The officer forgot the ownership document: refused. They attach it and the phone retries
    the same request with the same key: it now succeeds, once."""
    body = {"trigger": "verify_ownership", "expected_version": 1}
    path = f"{site.case_path}/transitions"
    refused = site.officer.post(path, json=body, headers=with_key("verify"))
    assert_error(refused, 422, "guard_failed")
    again = site.officer.post(path, json=body, headers=with_key("verify"))
    assert_error(again, 422, "guard_failed")
    assert REPLAYED not in again.headers
    assert count(IdempotencyRecord) == 0

    assert site.officer.attach(site.case_id, "ownership_doc").status_code == 201
    done = site.officer.post(path, json=body, headers=with_key("verify"))
    assert done.status_code == 200 and REPLAYED not in done.headers
    assert done.get_json()["state"] == "ownership_verified"
    assert_replays(done, site.officer.post(path, json=body, headers=with_key("verify")))
    history = site.officer.get(f"{site.case_path}/events").get_json()["items"]
    triggers = [e["trigger"] for e in history]
    assert triggers.count("verify_ownership") == 1


def test_a_corrected_body_may_reuse_the_key_of_a_refused_one_and_then_owns_it(site):
    bad = {**site.new_case, "difficulty": 9}
    assert_error(site.officer.post("/api/v1/cases", json=bad, headers=with_key("fix")), 422,
                 "validation_failed")
    before = count(Case)
    fixed = site.officer.post("/api/v1/cases", json=site.new_case, headers=with_key("fix"))
    assert fixed.status_code == 201 and REPLAYED not in fixed.headers
    assert_replays(fixed, site.officer.post("/api/v1/cases", json=site.new_case,
                                            headers=with_key("fix")))
    assert_error(site.officer.post("/api/v1/cases", json=bad, headers=with_key("fix")), 422,
                 "idempotency_key_reused")
    assert count(Case) == before + 1


def test_a_conflict_is_not_recorded_either(site):
    stale = {"expected_version": 7, "address": "测试路7号"}
    assert_error(site.officer.patch(site.case_path, json=stale, headers=with_key("stale")), 409,
                 "stale_version")
    assert count(IdempotencyRecord) == 0
    current = {"expected_version": 1, "address": "测试路7号"}
    done = site.officer.patch(site.case_path, json=current, headers=with_key("stale"))
    assert done.status_code == 200 and done.get_json()["version"] == 2


def _hold_writes(app, backend: str):
    """Another connection that keeps every case creation and transition waiting until it is
    released, so that both copies of a request are in flight together."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"],
                           connect_args={"timeout": 10} if backend == "sqlite" else {})
    conn = engine.connect()
    db.session.rollback()  # on SQLite every transaction, this test's too, takes the write lock
    if backend == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(text("SELECT 1 FROM case_ref_counters FOR UPDATE"))
        conn.execute(text("SELECT 1 FROM cases FOR UPDATE"))
    return engine, conn


def _waiting_on_locks() -> int:
    with db.engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                "current_database() AND wait_event_type = 'Lock'"))


@pytest.mark.parametrize("write", ["create", "transition"])
def test_two_copies_of_a_request_racing_with_one_key_act_once_and_both_get_its_answer(
        app, backend, site, write):
    """The phone resends before the first answer arrives: both copies are in flight at once.
    The loser waits, then finds the winner's record and replays it (not 409)."""
    if write == "create":
        path, body = "/api/v1/cases", site.new_case
    else:
        assert site.officer.attach(site.case_id, "ownership_doc").status_code == 201
        path, body = f"{site.case_path}/transitions", {"trigger": "verify_ownership",
                                                       "expected_version": 1}
    before = counts()
    engine, blocker = _hold_writes(app, backend)
    results: list = []

    def send():
        client = Api(app.test_client(), site.officer.make, site.officer.token)
        results.append(client.post(path, json=body, headers=with_key("race")))

    threads = [threading.Thread(target=send) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 5
        while backend == "postgresql" and _waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3 if backend == "postgresql" else 1.0)
    finally:
        blocker.rollback()
        blocker.close()
        engine.dispose()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2
    assert [r.status_code for r in results] == [results[0].status_code] * 2 and \
        results[0].status_code in (200, 201), [r.get_json() for r in results]
    assert results[0].get_json() == results[1].get_json()
    assert sorted(r.headers.get(REPLAYED, "") for r in results) == ["", "true"]
    after = counts()
    assert after["Case"] == before["Case"] + (write == "create")
    assert after["CaseEvent"] == before["CaseEvent"] + 1
    assert after["IdempotencyRecord"] == before["IdempotencyRecord"] + 1
