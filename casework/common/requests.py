"""Reading a request: JSON bodies and query strings validated against pydantic schemas."""
from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest

from casework.common.errors import ApiError, BadRequest, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        field = ".".join(str(part) for part in err["loc"]) or None
        details.append({"field": field, "rule": err["type"], "message": err["msg"]})
    return details


def validate(schema: type[M], data: Any) -> M:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("The request has invalid fields.", validation_details(exc)) from None


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400/415 that says what is wrong with it."""
    if not request.mimetype or request.mimetype != "application/json":
        if not request.get_data(cache=True):
            raise BadRequest("A JSON body is required.")
        raise ApiError("Send the body as application/json.", status=415,
                       code="unsupported_media_type")
    try:
        data = request.get_json(force=True, silent=False)
    except (WerkzeugBadRequest, RecursionError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return data


def json_body(schema: type[M]) -> M:
    return validate(schema, json_object())


def query_args(schema: type[M]) -> M:
    args: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        args[key] = values if len(values) > 1 else values[0]
    return validate(schema, args)
