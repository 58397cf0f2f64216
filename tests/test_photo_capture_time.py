"""A photo scaled down in the browser loses its EXIF; the page sends the original's capture
time along, and the attachment keeps it."""
from __future__ import annotations

import io

import pytest

from casework.evidence import samples
from tests.support import assert_error


def _upload(client, case_id: int, **fields):
    return client.post(f"/api/v1/cases/{case_id}/attachments",
                       data={"kind": "before_photo",
                             "file": (io.BytesIO(samples.png("capture")), "shed.png"), **fields},
                       content_type="multipart/form-data")


def test_the_capture_time_is_kept_in_utc(api, make):
    compound = make.compound()
    officer = api.as_(make.user("officer", zones=[compound.zone]))
    case = officer.create_case(compound)
    response = _upload(officer, case["id"], taken_at="2026-11-20T09:30:00+08:00")
    assert response.status_code == 201
    assert response.get_json()["taken_at"] == "2026-11-20T01:30:00+00:00"
    listed = officer.get(f"/api/v1/cases/{case['id']}/attachments").get_json()["items"]
    assert listed[0]["taken_at"] == "2026-11-20T01:30:00+00:00"


@pytest.mark.parametrize("taken_at, rule", [("yesterday", "datetime"),
                                            ("2026-11-20T09:30:00", "datetime"),
                                            ("2999-01-01T00:00:00+08:00", "not_in_future")])
def test_a_capture_time_that_is_no_time_is_refused_and_nothing_is_stored(api, make, taken_at,
                                                                          rule):
    compound = make.compound()
    officer = api.as_(make.user("officer", zones=[compound.zone]))
    case = officer.create_case(compound)
    error = assert_error(_upload(officer, case["id"], taken_at=taken_at), 422)
    assert [(d["field"], d["rule"]) for d in error["details"]] == [("taken_at", rule)]
    assert officer.get(f"/api/v1/cases/{case['id']}/attachments").get_json()["items"] == []
