from datetime import timedelta

from casework import clock


def test_a_case_walks_to_closed(api, make):
    zone = make.zone()
    compound = make.compound(zone)
    officer = make.user("officer", [zone])
    supervisor = make.user("supervisor", [zone])
    case = api.as_(officer).create_case(compound, owner_name="演示户主")
    assert case["state"] == "identified"
    assert api.as_(officer).attach(case["id"], "ownership_doc").status_code == 201
    r = api.as_(officer).fire(case["id"], "verify_ownership")
    assert r.status_code == 200, r.get_json()
    assert api.as_(officer).attach(case["id"], "agreement").status_code == 201
    deadline = (clock.now() + timedelta(days=10)).date().isoformat()
    r = api.as_(officer).fire(case["id"], "negotiate", deadline=deadline)
    assert r.status_code == 200, r.get_json()
    api.as_(officer).attach(case["id"], "after_photo")
    r = api.as_(officer).fire(case["id"], "demolish", method="self")
    assert r.status_code == 200, r.get_json()
    r = api.as_(supervisor).fire(case["id"], "close", note="验收合格")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "closed"
    events = api.as_(supervisor).get(f"/api/v1/cases/{case['id']}/events").get_json()["items"]
    assert [e["trigger"] for e in events if e["trigger"] not in ("attach",)] == [
        "create", "verify_ownership", "negotiate", "demolish", "close"]
