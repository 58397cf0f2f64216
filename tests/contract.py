"""Every JSON answer the suite receives from the API is checked against the served OpenAPI
document: its status must be documented for the operation, and its body must match the
documented schema (whose required fields come from the response models). A response can then
never drift from its documentation unnoticed."""
from __future__ import annotations

import re
from functools import lru_cache

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException

DOCUMENT = "urn:casework:openapi"


@lru_cache(maxsize=1)
def _document() -> dict:
    from casework.openapi import openapi_document
    return openapi_document()


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource(DOCUMENT, Resource.from_contents(
        _document(), default_specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def check_response(app, response) -> None:
    request = response.request
    if not request.path.startswith(("/api/", "/healthz")):
        return
    try:
        rule, _args = app.url_map.bind("localhost").match(request.path, method=request.method,
                                                          return_rule=True)
    except HTTPException:
        return  # no such route or method: the 404/405 answers are checked by their own tests
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
    method = request.method.lower()
    operation = _document()["paths"].get(path, {}).get(method)
    assert operation is not None, f"{request.method} {path} is not in the OpenAPI document"
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{request.method} {path} answered {status}, which its documentation does not list "
        f"({', '.join(operation['responses'])}): {response.get_data(as_text=True)[:300]}")
    if not response.is_json:
        return
    content = operation["responses"][status].get("content", {})
    assert "application/json" in content, (
        f"{request.method} {path} answered JSON with {status}, documented as {list(content)}")
    reference = {"$ref": DOCUMENT + "#/" + _pointer("paths", path, method, "responses", status,
                                                    "content", "application/json", "schema")}
    validator = Draft202012Validator(reference, registry=_registry())
    errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.path))
    assert not errors, (f"{request.method} {path} {status} does not match its documented "
                        f"schema: {errors[0].message} at {list(errors[0].path)}")


class ContractClient(FlaskClient):
    """The test client, checking every API answer against the document as it arrives."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        check_response(self.application, response)
        return response
