"""Requests a hostile client sends to make the server fail or work hard: ids beyond the
database's integers, methods a path does not take, JSON bodies that cost more than they weigh.
Each answers the API's error shape with the right status, and changes nothing."""
from __future__ import annotations

import io
import json
import re

import pytest

from casework.evidence import samples
from tests.test_malformed_requests import assert_error, database_rows

HUGE_IDS = [2**31, 2**63, 10**40]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _int_rules(app):
    # Pages answer 404 and 405 in HTML; the API's error shape is checked on the API.
    return [rule for rule in app.url_map.iter_rules()
            if "<int:" in rule.rule and rule.rule.startswith("/api/")]


def _fill(rule, value: int) -> str:
    return re.sub(r"<int:[a-z_]+>", str(value), rule.rule)


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_an_id_beyond_the_database_integer_is_404_on_every_route(app, api, make, huge):
    rules = _int_rules(app)
    assert len(rules) >= 10, [r.rule for r in rules]
    zone = make.zone()
    make.compound(zone)
    supervisor = api.as_(make.user("supervisor"))
    before = database_rows()
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = supervisor.client.open(
                _fill(rule, huge), method=method, json={"expected_version": 1, "trigger": "close"},
                headers=supervisor._headers(None))
            error = assert_error(response, 404, "not_found")
            assert error["message"], (method, rule.rule)
    assert database_rows() == before


def test_the_largest_id_the_database_holds_is_looked_up_and_not_found(api, make):
    supervisor = api.as_(make.user("supervisor"))
    assert_error(supervisor.get(f"/api/v1/cases/{2**31 - 1}"), 404, "not_found")


def _paths_and_methods(app) -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/healthz")):
            continue  # pages answer in HTML
        allowed.setdefault(rule.rule, set()).update(rule.methods)
    return allowed


def test_a_method_a_path_does_not_take_is_405_with_allow(app, api, make):
    supervisor = api.as_(make.user("supervisor"))
    paths = _paths_and_methods(app)
    assert len(paths) >= 15
    for template, allowed in paths.items():
        path = re.sub(r"<[^>]+>", "1", template)
        for method in METHODS:
            if method in allowed:
                continue
            response = supervisor.client.open(path, method=method, headers=supervisor._headers(None))
            assert_error(response, 405, "method_not_allowed")
            header = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
            assert header == allowed, (method, template, response.headers.get("Allow"))


def test_a_json_body_over_its_own_limit_is_413_even_under_the_upload_limit(app, api, make):
    """A login body of a million unknown keys: refused at 1 MB, before parsing or hashing."""
    app.config["CASEWORK_MAX_JSON_BYTES"] = 64 * 1024
    officer = make.user("officer", [make.zone()])
    body = json.dumps({"username": officer.username, "password": "x",
                       **{f"k{i}": i for i in range(20000)}}).encode()
    assert 64 * 1024 < len(body) < app.config["MAX_CONTENT_LENGTH"]
    before = database_rows()
    response = api.client.post("/api/v1/auth/login", data=body,
                               headers={"Content-Type": "application/json"})
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 64 * 1024}
    assert database_rows() == before


def test_a_json_body_sent_in_chunks_without_length_is_held_to_the_limit(app, api, make):
    app.config["CASEWORK_MAX_JSON_BYTES"] = 4096
    officer = api.as_(make.user("officer", [make.zone()]))

    body = b'{"kind": "shed", "padding": "' + b"x" * 64 * 1024 + b'"}'
    # As a server that decodes chunked bodies hands them on: no length, a terminated stream.
    response = officer.client.post("/api/v1/cases", input_stream=io.BytesIO(body),
                                   environ_overrides={"wsgi.input_terminated": True},
                                   headers={**officer._headers(None),
                                            "Content-Type": "application/json",
                                            "Transfer-Encoding": "chunked"})
    assert response.request.content_length is None
    assert_error(response, 413, "payload_too_large")


def test_an_upload_keeps_the_larger_upload_limit(app, api, make):
    app.config["CASEWORK_MAX_JSON_BYTES"] = 4096
    zone = make.zone()
    officer = api.as_(make.user("officer", [zone]))
    case = officer.create_case(make.compound(zone))
    photo = samples.png("large") + b"\0" * 64 * 1024
    response = officer.post(f"/api/v1/cases/{case['id']}/attachments",
                            data={"kind": "before_photo", "file": (io.BytesIO(photo), "site.png")},
                            content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()


def test_an_error_lists_a_bounded_number_of_details_and_says_how_many_were_left(api, make):
    officer = api.as_(make.user("officer", [make.zone()]))
    body = {"kind": "shed", "compound_id": 1, **{f"unknown{i}": i for i in range(5000)}}
    before = database_rows()
    response = officer.post("/api/v1/cases", json=body)
    error = assert_error(response, 422, "validation_failed")
    assert len(error["details"]) == 51
    assert all(d["rule"] == "extra_forbidden" for d in error["details"][:50])
    note = error["details"][50]
    assert note["field"] is None and note["rule"] == "more_problems"
    assert "4950" in note["message"]
    assert len(response.get_data()) < 20_000
    assert database_rows() == before


def test_a_multipart_part_with_no_name_and_an_idempotency_key_is_400(api, make):
    compound = make.compound()
    officer = api.as_(make.user("officer", [compound.zone]))
    case = officer.create_case(compound)
    body = (b"--b\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nbefore_photo\r\n--b--\r\n")
    response = officer.client.post(
        f"/api/v1/cases/{case['id']}/attachments", data=body,
        headers={**officer._headers(None), "Idempotency-Key": "nameless-1",
                 "Content-Type": "multipart/form-data; boundary=b"})
    error = assert_error(response, 400, "bad_request")
    assert "needs a name" in error["message"]
    assert officer.get(f"/api/v1/cases/{case['id']}/attachments").get_json()["items"] == []
