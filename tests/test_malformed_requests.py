"""No request, however malformed, gets a 500 (spec section 9).

Every write endpoint is sent broken bodies: the answer is the exact status (400 malformed,
413 too large, 415 wrong media type, 422 invalid fields listing every failed rule) in the shape
``{"error": {"code", "message", "details"}}``, and no row of any table changes.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

import pytest
from sqlalchemy import select

from casework.evidence import samples
from casework.extensions import db
from tests.support import Api, PASSWORD, assert_error

DROP = object()  # an override that removes the field from the valid body


def database_rows() -> dict[str, list[tuple]]:
    """Every row of every table, to show that a refused request changed nothing."""
    db.session.rollback()  # a fresh snapshot, not the test session's last one
    rows = {table.name: [tuple(r) for r in db.session.execute(
                select(table).order_by(*table.primary_key.columns))]
            for table in db.metadata.sorted_tables}
    db.session.rollback()
    return rows


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[SimpleNamespace], str]
    actor: str
    body: Callable[[SimpleNamespace], dict[str, Any]]


JSON_ENDPOINTS = {e.name: e for e in (
    Endpoint("login", "post", lambda w: "/api/v1/auth/login", "anonymous",
             lambda w: {"username": w.officer_user.username, "password": PASSWORD}),
    Endpoint("zones", "post", lambda w: "/api/v1/zones", "admin",
             lambda w: {"code": "QZ", "name": "测试片区新"}),
    Endpoint("compounds", "post", lambda w: "/api/v1/compounds", "admin",
             lambda w: {"zone_id": w.zone.id, "name": "测试小区新", "address": "测试路2号"}),
    Endpoint("cases", "post", lambda w: "/api/v1/cases", "officer",
             lambda w: {"kind": "shed", "compound_id": w.compound.id}),
    Endpoint("edit", "patch", lambda w: f"/api/v1/cases/{w.case_id}", "officer",
             lambda w: {"expected_version": w.version, "address": "测试路3号"}),
    Endpoint("transitions", "post", lambda w: f"/api/v1/cases/{w.case_id}/transitions", "officer",
             lambda w: {"trigger": "verify_ownership", "expected_version": w.version,
                        "note": "产权已核实"}),
)}
UPLOAD = Endpoint("upload", "post", lambda w: f"/api/v1/cases/{w.case_id}/attachments",
                  "officer", lambda w: {"kind": "other"})


@pytest.fixture
def world(api: Api, make) -> SimpleNamespace:
    """A case ready for verify_ownership, and clients for an officer, an admin, nobody."""
    zone = make.zone()
    compound = make.compound(zone)
    officer_user = make.user("officer", [zone])
    officer, admin = api.as_(officer_user), api.as_(make.user("admin"))
    case = officer.create_case(compound, owner_name="演示户主", owner_phone="000-0000-0001")
    assert officer.attach(case["id"], "ownership_doc").status_code == 201
    version = officer.get(f"/api/v1/cases/{case['id']}").get_json()["version"]
    return SimpleNamespace(zone=zone, compound=compound, officer_user=officer_user,
                           case_id=case["id"], version=version,
                           clients={"officer": officer, "admin": admin,
                                    "anonymous": Api(api.client, make)})


def send(world: SimpleNamespace, endpoint: Endpoint, **kw: Any):
    client = world.clients[endpoint.actor]
    return getattr(client, endpoint.method)(endpoint.path(world), **kw)


def valid_upload() -> dict:
    return {"kind": "other", "file": (io.BytesIO(samples.png("malformed")), "site.png")}


@pytest.mark.parametrize("name", [*JSON_ENDPOINTS, "upload"])
def test_the_valid_request_of_each_endpoint_succeeds_and_changes_rows(world, name):
    """The control for every table below: only the broken part makes a request fail."""
    before = database_rows()
    if name == "upload":
        response = send(world, UPLOAD, data=valid_upload(), content_type="multipart/form-data")
    else:
        endpoint = JSON_ENDPOINTS[name]
        response = send(world, endpoint, json=endpoint.body(world))
    assert response.status_code in (200, 201), response.get_json()
    assert database_rows() != before


def _with_raw(text_after_last_field: str) -> Callable[[dict], bytes]:
    return lambda body: (json.dumps(body)[:-1] + ", " + text_after_last_field + "}").encode()


# (id, raw body from the valid body, Content-Type or None, status, code)
RAW_BODIES: list[tuple[str, Callable[[dict], bytes], str | None, int, str]] = [
    ("invalid-json", lambda b: json.dumps(b)[:-1].encode(), "application/json", 400, "bad_request"),
    ("list", lambda b: json.dumps([b]).encode(), "application/json", 400, "bad_request"),
    ("string", lambda b: b'"kind"', "application/json", 400, "bad_request"),
    ("number", lambda b: b"42", "application/json", 400, "bad_request"),
    ("null", lambda b: b"null", "application/json", 400, "bad_request"),
    ("true", lambda b: b"true", "application/json", 400, "bad_request"),
    ("empty", lambda b: b"", "application/json", 400, "bad_request"),
    ("whitespace", lambda b: b"  \n ", "application/json", 400, "bad_request"),
    ("nan-literal", _with_raw('"x": NaN'), "application/json", 400, "bad_request"),
    ("infinity-literal", _with_raw('"x": Infinity'), "application/json", 400, "bad_request"),
    ("minus-infinity-literal", _with_raw('"x": -Infinity'), "application/json", 400, "bad_request"),
    ("number-beyond-double", _with_raw('"x": 1e400'), "application/json", 400, "bad_request"),
    ("100000-nested-arrays", lambda b: b"[" * 100_000 + b"]" * 100_000, "application/json", 400,
     "bad_request"),
    ("deep-nesting-in-object", _with_raw('"x": ' + "[" * 500 + "]" * 500), "application/json", 400,
     "bad_request"),
    ("non-utf8-bytes", lambda b: json.dumps(b)[:-1].encode() + b', "x": "\xff\xfe"}',
     "application/json", 400, "bad_request"),
    ("lone-surrogate", _with_raw('"x": "\\ud800"'), "application/json", 400, "bad_request"),
    ("text-plain", lambda b: json.dumps(b).encode(), "text/plain", 415, "unsupported_media_type"),
    ("no-content-type", lambda b: json.dumps(b).encode(), None, 415, "unsupported_media_type"),
    ("form-urlencoded", lambda b: b"kind=shed", "application/x-www-form-urlencoded", 415,
     "unsupported_media_type"),
    ("multipart",
     lambda b: b"--B\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nshed\r\n--B--\r\n",
     "multipart/form-data; boundary=B", 415, "unsupported_media_type"),
]


@pytest.mark.parametrize("make_raw,content_type,status,code",
                         [case[1:] for case in RAW_BODIES], ids=[case[0] for case in RAW_BODIES])
def test_a_body_that_is_not_a_json_object_is_refused_by_every_endpoint_and_changes_nothing(
        world, make_raw, content_type, status, code):
    headers = {"Content-Type": content_type} if content_type else {}
    before = database_rows()
    for name, endpoint in JSON_ENDPOINTS.items():
        response = send(world, endpoint, data=make_raw(endpoint.body(world)), headers=headers)
        assert response.status_code == status, (name, response.get_data(as_text=True)[:300])
        assert_error(response, status, code)
    assert database_rows() == before


# (endpoint, id, overrides of the valid body, {field: rule} expected in details)
BIG = 10**30
INVALID_FIELDS: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
    ("login", "missing-both", {"username": DROP, "password": DROP},
     {"username": "missing", "password": "missing"}),
    ("login", "objects-for-strings", {"username": {}, "password": ["x"]},
     {"username": "string_type", "password": "string_type"}),
    ("login", "number-for-string", {"username": 5}, {"username": "string_type"}),
    ("login", "unknown-field", {"remember_me": True}, {"remember_me": "extra_forbidden"}),
    ("login", "nul-character", {"username": "a\x00b"}, {"username": "no_nul_character"}),
    ("zones", "missing-code", {"code": DROP}, {"code": "missing"}),
    ("zones", "object-for-string", {"code": {"a": 1}}, {"code": "string_type"}),
    ("zones", "bad-code-and-empty-name", {"code": "Z 1!", "name": ""},
     {"code": "string_pattern_mismatch", "name": "string_too_short"}),
    ("zones", "unknown-field", {"colour": "red"}, {"colour": "extra_forbidden"}),
    ("compounds", "string-for-int", {"zone_id": "1"}, {"zone_id": "int_type"}),
    ("compounds", "float-for-int", {"zone_id": 1.0}, {"zone_id": "int_type"}),
    ("compounds", "huge-int", {"zone_id": BIG}, {"zone_id": "less_than_equal"}),
    ("compounds", "beyond-int32", {"zone_id": 2**31}, {"zone_id": "less_than_equal"}),
    ("compounds", "negative", {"zone_id": -3}, {"zone_id": "greater_than_equal"}),
    ("compounds", "missing-name", {"name": DROP}, {"name": "missing"}),
    ("cases", "missing-required", {"kind": DROP, "compound_id": DROP},
     {"kind": "missing", "compound_id": "missing"}),
    ("cases", "strings-for-ints", {"compound_id": "1", "difficulty": "3", "officer_id": "7"},
     {"compound_id": "int_type", "difficulty": "int_type", "officer_id": "int_type"}),
    ("cases", "floats-for-ints", {"compound_id": 1.5, "difficulty": 3.0},
     {"compound_id": "int_type", "difficulty": "int_type"}),
    ("cases", "bool-for-int", {"compound_id": True}, {"compound_id": "int_type"}),
    ("cases", "huge-ints", {"compound_id": BIG, "officer_id": 2**63},
     {"compound_id": "less_than_equal", "officer_id": "less_than_equal"}),
    ("cases", "negative-numbers", {"area_m2": -1, "difficulty": -2, "compound_id": 0},
     {"area_m2": "greater_than_equal", "difficulty": "greater_than_equal",
      "compound_id": "greater_than_equal"}),
    ("cases", "out-of-range", {"difficulty": 6, "lat": 91, "lon": -181},
     {"difficulty": "less_than_equal", "lat": "less_than_equal", "lon": "greater_than_equal"}),
    ("cases", "objects-for-strings", {"address": {}, "description": ["x"], "owner_name": 5},
     {"address": "string_type", "description": "string_type", "owner_name": "string_type"}),
    ("cases", "string-for-float", {"area_m2": "12.5"}, {"area_m2": "float_type"}),
    ("cases", "strings-for-bool", {"owner_unknown": "yes"}, {"owner_unknown": "bool_type"}),
    ("cases", "number-for-bool", {"owner_unknown": 1}, {"owner_unknown": "bool_type"}),
    ("cases", "kind-not-in-enum", {"kind": "castle"}, {"kind": "enum"}),
    ("cases", "null-kind", {"kind": None}, {"kind": "enum"}),
    ("cases", "phone-with-letters", {"owner_phone": "call me"},
     {"owner_phone": "string_pattern_mismatch"}),
    ("cases", "too-long", {"address": "路" * 301}, {"address": "string_too_long"}),
    ("cases", "nul-character", {"description": "a\x00b"}, {"description": "no_nul_character"}),
    ("cases", "read-only-state-on-create", {"state": "closed"}, {"state": "extra_forbidden"}),
    ("edit", "read-only-fields", {"state": "closed", "version": 9, "ref": "DA-1"},
     {"state": "read_only", "version": "read_only", "ref": "read_only"}),
    ("edit", "read-only-without-version", {"expected_version": DROP, "due_at": "2030-01-01"},
     {"due_at": "read_only"}),
    ("edit", "missing-expected-version", {"expected_version": DROP},
     {"expected_version": "missing"}),
    ("edit", "string-version", {"expected_version": "1"}, {"expected_version": "int_type"}),
    ("edit", "huge-version", {"expected_version": BIG}, {"expected_version": "less_than_equal"}),
    ("edit", "unknown-field", {"colour": "red"}, {"colour": "extra_forbidden"}),
    ("edit", "wrong-types", {"difficulty": "hard", "area_m2": {}, "owner_unknown": "no"},
     {"difficulty": "int_type", "area_m2": "float_type", "owner_unknown": "bool_type"}),
    ("edit", "null-for-required", {"kind": None}, {"kind": "not_null"}),
    ("edit", "huge-compound", {"compound_id": BIG}, {"compound_id": "less_than_equal"}),
    ("transitions", "missing-required", {"trigger": DROP, "expected_version": DROP},
     {"trigger": "missing", "expected_version": "missing"}),
    ("transitions", "wrong-types", {"trigger": 5, "expected_version": 1.5, "note": {}},
     {"trigger": "string_type", "expected_version": "int_type", "note": "string_type"}),
    ("transitions", "negative-version", {"expected_version": -1},
     {"expected_version": "greater_than_equal"}),
    ("transitions", "huge-version", {"expected_version": BIG},
     {"expected_version": "less_than_equal"}),
    ("transitions", "unknown-trigger", {"trigger": "fly"}, {"trigger": "known_trigger"}),
    ("transitions", "deadline-not-a-date", {"deadline": "next friday"},
     {"deadline": "date_parsing"}),
    ("transitions", "deadline-impossible-date", {"deadline": "2026-02-30"},
     {"deadline": "date_parsing"}),
    ("transitions", "deadline-with-a-time", {"deadline": "2026-03-01T12:00:00+08:00"},
     {"deadline": "date_parsing"}),
    ("transitions", "deadline-a-number", {"deadline": 20260301}, {"deadline": "date_type"}),
    ("transitions", "method-not-in-enum", {"method": "bulldozer"}, {"method": "literal_error"}),
    ("transitions", "unknown-field", {"reason": "x"}, {"reason": "extra_forbidden"}),
]


@pytest.mark.parametrize("name,overrides,expected", [c[:1] + c[2:] for c in INVALID_FIELDS],
                         ids=[f"{c[0]}-{c[1]}" for c in INVALID_FIELDS])
def test_invalid_fields_are_refused_with_every_failed_rule_and_change_nothing(
        world, name, overrides, expected):
    endpoint = JSON_ENDPOINTS[name]
    body = {**endpoint.body(world), **overrides}
    body = {key: value for key, value in body.items() if value is not DROP}
    before = database_rows()
    error = assert_error(send(world, endpoint, json=body), 422)
    assert {d["field"]: d["rule"] for d in error["details"]} == expected
    assert all(d["message"] for d in error["details"])
    assert database_rows() == before


@pytest.mark.parametrize("name", [*JSON_ENDPOINTS, "upload"])
def test_a_body_larger_than_the_limit_is_413_and_changes_nothing(app, world, name):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    before = database_rows()
    if name == "upload":
        upload = {"kind": "other", "file": (io.BytesIO(samples.png("big") + b"\0" * 8192), "a.png")}
        response = send(world, UPLOAD, data=upload, content_type="multipart/form-data")
    else:
        endpoint = JSON_ENDPOINTS[name]
        response = send(world, endpoint, json={**endpoint.body(world), "padding": "x" * 8192})
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 4096}
    assert database_rows() == before


MULTIPART_BODY = (b"--B\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nother\r\n"
                  b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
                  b"Content-Type: image/png\r\n\r\n" + samples.png("multipart") + b"\r\n--B--\r\n")
BAD_UPLOADS = [
    ("json", json.dumps({"kind": "other"}).encode(), "application/json", 415,
     "unsupported_media_type"),
    ("text-plain", b"a photo", "text/plain", 415, "unsupported_media_type"),
    ("form-urlencoded", b"kind=other&file=x", "application/x-www-form-urlencoded", 415,
     "unsupported_media_type"),
    ("empty-without-type", b"", None, 400, "bad_request"),
    ("no-boundary", MULTIPART_BODY, "multipart/form-data", 400, "bad_request"),
    ("truncated", MULTIPART_BODY[:-40], "multipart/form-data; boundary=B", 400, "bad_request"),
    ("cut-in-a-header", MULTIPART_BODY[:30], "multipart/form-data; boundary=B", 400, "bad_request"),
    ("wrong-boundary", MULTIPART_BODY, "multipart/form-data; boundary=C", 400, "bad_request"),
    ("non-utf8-garbage", b"\xff\xfe\x00\x81garbage", "multipart/form-data; boundary=B", 400,
     "bad_request"),
]


@pytest.mark.parametrize("raw,content_type,status,code", [c[1:] for c in BAD_UPLOADS],
                         ids=[c[0] for c in BAD_UPLOADS])
def test_a_malformed_upload_is_refused_and_changes_nothing(world, raw, content_type, status, code):
    before = database_rows()
    headers = {"Content-Type": content_type} if content_type else {}
    assert_error(send(world, UPLOAD, data=raw, headers=headers), status, code)
    assert database_rows() == before


def test_the_well_formed_multipart_body_of_the_table_above_is_accepted(world):
    response = send(world, UPLOAD, data=MULTIPART_BODY,
                    headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert response.status_code == 201, response.get_json()


# (path, query string, {field: rule})
BAD_QUERIES: list[tuple[str, str, dict[str, str]]] = [
    ("cases", "page=0", {"page": "greater_than_equal"}),
    ("cases", "page=-1", {"page": "greater_than_equal"}),
    ("cases", "page=two", {"page": "int_parsing"}),
    ("cases", "page=1.5", {"page": "int_parsing"}),
    ("cases", "page=99999999999999999999", {"page": "less_than_equal"}),
    ("cases", "page=1&page=2", {"page": "int_type"}),
    ("cases", "per_page=0", {"per_page": "greater_than_equal"}),
    ("cases", "per_page=201", {"per_page": "less_than_equal"}),
    ("cases", "per_page=all", {"per_page": "int_parsing"}),
    ("cases", "state=bogus", {"state.0": "enum"}),
    ("cases", "state=identified,bogus", {"state.1": "enum"}),
    ("cases", "overdue=maybe", {"overdue": "bool_parsing"}),
    ("cases", "overdue=", {"overdue": "bool_parsing"}),
    ("cases", "compound=x", {"compound": "int_parsing"}),
    ("cases", "compound=99999999999", {"compound": "less_than_equal"}),
    ("cases", "officer=-5", {"officer": "greater_than_equal"}),
    ("cases", "kind=castle", {"kind": "enum"}),
    ("cases", "q=a%00b", {"q": "no_nul_character"}),
    ("cases", "zone=Z%00", {"zone": "no_nul_character"}),
    ("cases", "q=" + "x" * 101, {"q": "string_too_long"}),
    ("cases", "sort=ref", {"sort": "extra_forbidden"}),
    ("cases", "page=0&per_page=0&overdue=x", {"page": "greater_than_equal",
                                              "per_page": "greater_than_equal",
                                              "overdue": "bool_parsing"}),
    ("compounds", "page=0", {"page": "greater_than_equal"}),
    ("compounds", "per_page=201", {"per_page": "less_than_equal"}),
    ("compounds", "zone_id=x", {"zone_id": "int_parsing"}),
    ("compounds", "zone_id=99999999999999999999", {"zone_id": "less_than_equal"}),
    ("compounds", "zone=Z1", {"zone": "extra_forbidden"}),
]


@pytest.mark.parametrize("path,query,expected", BAD_QUERIES,
                         ids=[f"{c[0]}-{c[1][:30]}" for c in BAD_QUERIES])
def test_bad_query_strings_on_lists_are_422_with_every_failed_rule(world, path, query, expected):
    client = world.clients["officer"]
    assert client.get(f"/api/v1/{path}").status_code == 200  # the list itself works
    error = assert_error(client.get(f"/api/v1/{path}?{query}"), 422, "validation_failed")
    assert {d["field"]: d["rule"] for d in error["details"]} == expected


@pytest.mark.parametrize("zone", ["%C2%B2", "99999999999", "99999999999999999999"],
                         ids=["superscript-two", "beyond-int32", "beyond-int64"])
def test_a_zone_filter_that_names_no_zone_finds_nothing(world, zone):
    client = world.clients["officer"]
    assert client.get("/api/v1/cases").get_json()["total"] == 1
    response = client.get(f"/api/v1/cases?zone={zone}")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"] == []


@pytest.mark.parametrize("key", ["", "   ", "k" * 201, "ключ", "a\x00b"],
                         ids=["empty", "blank", "too-long", "non-ascii", "nul"])
def test_a_malformed_idempotency_key_is_400_and_changes_nothing(world, key):
    endpoint = JSON_ENDPOINTS["cases"]
    before = database_rows()
    response = send(world, endpoint, json=endpoint.body(world), headers={"Idempotency-Key": key})
    assert_error(response, 400, "bad_request")
    assert database_rows() == before
