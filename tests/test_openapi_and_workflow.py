"""The API describes itself: OpenAPI 3.1, the workflow document and the lifecycle diagram, all
read from the same declarations the API runs on."""
from __future__ import annotations

import re
from pathlib import Path

from openapi_spec_validator import validate

from casework.cases import lifecycle

README = Path(__file__).resolve().parent.parent / "README.md"


def test_openapi_document_is_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_openapi_describes_every_route(app, client):
    documented = client.get("/api/v1/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/healthz")):
            continue  # pages (HTML) and their files are not the API
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in documented, f"{rule.rule} is not in openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in documented[path], f"{method} {rule.rule} is not documented"


def test_openapi_request_schemas_match_the_validators(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    transition = schemas["TransitionRequest"]
    assert set(transition["required"]) == {"trigger", "expected_version"}
    assert transition["additionalProperties"] is False


def test_workflow_document_is_the_declaration(api, make):
    officer = make.user("officer", [make.zone()])
    document = api.as_(officer).get("/api/v1/workflow").get_json()
    assert [s["name"] for s in document["states"]] == [
        "identified", "ownership_verified", "negotiated", "demolished", "closed", "disputed",
        "dismissed"]
    triggers = {t["name"]: t for t in document["triggers"]}
    assert set(triggers) == set(lifecycle.BY_NAME)
    assert triggers["close"]["roles"] == ["supervisor"]
    assert triggers["reopen"]["from"] == ["demolished", "closed"]
    assert triggers["verify_ownership"]["deadline"] == {"kind": "days", "days": 14}
    assert document["initial"] == {"state": "identified", "deadline": {"kind": "days", "days": 7}}
    assert {g["rule"] for g in triggers["demolish"]["guards"]} >= {
        "after_photo", "method_required", "enforcement_deadline_passed", "enforcement_approved"}


def test_workflow_follows_configured_deadlines(app, api, make):
    app.config["CASEWORK_DAYS_TO_INSPECT"] = 5
    officer = make.user("officer", [make.zone()])
    triggers = {t["name"]: t for t in api.as_(officer).get("/api/v1/workflow").get_json()["triggers"]}
    assert triggers["demolish"]["deadline"] == {"kind": "days", "days": 5}


def test_the_served_diagram_is_drawn_from_the_declaration(api, make):
    officer = make.user("officer", [make.zone()])
    response = api.as_(officer).get("/api/v1/workflow/diagram.mmd")
    assert response.status_code == 200
    diagram = response.get_data(as_text=True)
    assert "stateDiagram-v2" in diagram
    for trigger in lifecycle.TRIGGERS:
        for source in trigger.sources:
            assert f"{source.value} --> {trigger.dest.value}: {trigger.name}" in diagram


def test_the_readme_shows_the_served_diagram(api, make):
    officer = make.user("officer", [make.zone()])
    served = api.as_(officer).get("/api/v1/workflow/diagram.mmd").get_data(as_text=True)
    readme = README.read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)```", readme, re.S)
    assert block, "README has no mermaid block"
    assert block.group(1).strip() == served.strip(), (
        "README's diagram is out of date: run `flask --app casework workflow diagram`")


def test_every_json_body_has_an_example_valid_by_its_own_schema(client):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = client.get("/api/v1/openapi.json").get_json()
    registry = Registry().with_resource("urn:doc", Resource.from_contents(
        document, default_specification=DRAFT202012))
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("operationId"), f"{method} {path} has no operationId"
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            assert "example" in body, f"{method} {path} has no example body"
            name = body["schema"]["$ref"].rsplit("/", 1)[-1]
            validator = Draft202012Validator({"$ref": f"urn:doc#/components/schemas/{name}"},
                                             registry=registry)
            errors = list(validator.iter_errors(body["example"]))
            assert not errors, f"{method} {path}: {errors[0].message}"
            checked += 1
    assert checked >= 15
