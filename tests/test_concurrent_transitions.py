"""Two people fire a trigger on the same case at the same moment: one wins, one gets 409."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from casework.cases.models import CaseEvent
from casework.extensions import db


def _race(app, token: str, case_id: int, bodies: list[dict]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, dict]] = [None] * len(bodies)  # type: ignore[list-item]

    def fire(index: int, body: dict) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/cases/{case_id}/transitions", json=body,
                               headers={"Authorization": f"Bearer {token}"})
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=fire, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _events(case_id: int, trigger: str) -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.trigger == trigger))


def test_two_concurrent_transitions_one_wins_one_gets_409(app, api, make):
    zone = make.zone()
    officer = make.user("officer", [zone])
    case = api.as_(officer).create_case(make.compound(zone), owner_name="演示户主")
    api.as_(officer).attach(case["id"], "ownership_doc")
    version = api.as_(officer).get(f"/api/v1/cases/{case['id']}").get_json()["version"]
    token = make.token(officer)
    db.session.remove()  # the test's own session must hold no lock while the threads race

    body = {"trigger": "verify_ownership", "expected_version": version, "note": "核实"}
    results = _race(app, token, case["id"], [body, dict(body)])

    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    loser = next(payload for status, payload in results if status == 409)
    assert loser["error"]["code"] in ("stale_version", "invalid_transition")
    assert _events(case["id"], "verify_ownership") == 1
    after = app.test_client().get(f"/api/v1/cases/{case['id']}",
                                  headers={"Authorization": f"Bearer {token}"}).get_json()
    assert after["state"] == "ownership_verified"
    assert after["version"] == version + 1


def test_concurrent_different_triggers_write_one_event(app, api, make):
    """A dispute and a negotiate race from ownership_verified: only one of them happens."""
    zone = make.zone()
    officer = make.user("officer", [zone])
    case = api.as_(officer).create_case(make.compound(zone), owner_name="演示户主")
    api.as_(officer).attach(case["id"], "ownership_doc")
    api.as_(officer).attach(case["id"], "agreement")
    assert api.as_(officer).fire(case["id"], "verify_ownership").status_code == 200
    version = api.as_(officer).get(f"/api/v1/cases/{case['id']}").get_json()["version"]
    token = make.token(officer)
    db.session.remove()

    from datetime import timedelta

    from casework import clock
    deadline = (clock.now() + timedelta(days=20)).date().isoformat()
    results = _race(app, token, case["id"], [
        {"trigger": "negotiate", "expected_version": version, "deadline": deadline},
        {"trigger": "dispute", "expected_version": version, "note": "产权人有异议"},
    ])

    assert sorted(status for status, _ in results) == [200, 409], results
    assert _events(case["id"], "negotiate") + _events(case["id"], "dispute") == 1
