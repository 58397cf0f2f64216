"""Where a structure stands: the phone's position and its accuracy, kept on the case."""
from __future__ import annotations

from tests.support import assert_error


def test_a_case_keeps_the_position_and_its_accuracy(api, make):
    compound = make.compound()
    officer = api.as_(make.user("officer", zones=[compound.zone]))
    case = officer.create_case(compound, lat=41.7959, lon=123.4328, accuracy_m=12.5)
    again = officer.get(f"/api/v1/cases/{case['id']}").get_json()
    assert (again["lat"], again["lon"], again["accuracy_m"]) == (41.7959, 123.4328, 12.5)
    moved = officer.patch(f"/api/v1/cases/{case['id']}",
                          json={"expected_version": again["version"], "accuracy_m": 4.0})
    assert moved.status_code == 200 and moved.get_json()["accuracy_m"] == 4.0


def test_a_negative_accuracy_is_refused(api, make):
    compound = make.compound()
    officer = api.as_(make.user("officer", zones=[compound.zone]))
    response = officer.post("/api/v1/cases", json={"kind": "shed", "compound_id": compound.id,
                                                   "lat": 41.7, "lon": 123.4, "accuracy_m": -1})
    error = assert_error(response, 422, "validation_failed")
    assert [d["field"] for d in error["details"]] == ["accuracy_m"]
