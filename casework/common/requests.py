"""Reading a request: JSON bodies and query strings validated against pydantic schemas.

A body that is not a JSON object is malformed (400), a body sent as another media type is 415,
and an object whose fields break the schema is 422 with every failed rule listed.
"""
from __future__ import annotations

import json
import math
from typing import Any, TypeVar

from flask import current_app, g, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from casework.common.errors import ApiError, BadRequest, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def current_user() -> Any:
    """The user the request authenticated as (``casework.accounts.auth`` puts it there)."""
    return g.user

# The API's bodies are flat objects with, at most, a list or two inside; anything deeper is
# not a request to this API, and refusing it early keeps recursion out of later steps.
MAX_JSON_DEPTH = 32


def limit_body_size() -> None:
    """Holds every body but a multipart upload to ``CASEWORK_MAX_JSON_BYTES`` before anything
    reads it (the idempotency fingerprint included): a JSON body costs many times its size to
    parse and validate, an upload only its size to store."""
    if request.mimetype != "multipart/form-data":
        limit = current_app.config["CASEWORK_MAX_JSON_BYTES"]
        upload_limit = current_app.config.get("MAX_CONTENT_LENGTH")
        request.max_content_length = min(limit, upload_limit) if upload_limit else limit


def read_body_first() -> None:
    """Reads a write's whole body before anything touches the database. A transaction that
    began first (SQLite takes its write lock at the start of a write) would otherwise be held
    open by a client sending its body slowly, and every other write would wait for it. An
    upload is parsed (its file spooled to disk), any other body kept in memory within its
    limit (``limit_body_size``)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype == "multipart/form-data":
        request.form  # noqa: B018 - parsing reads the body to its end
    else:
        request.get_data(cache=True)


def _check_unannounced_length(raw: bytes) -> None:
    """A body sent without Content-Length (chunked) is read up to the limit and then cut off
    silently by werkzeug; one that reaches the limit may have been longer, so it is 413."""
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        raise RequestEntityTooLarge()


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        field = ".".join(str(part) for part in err["loc"]) or None
        details.append({"field": field, "rule": err["type"], "message": err["msg"]})
    return details


def validate(schema: type[M], data: Any) -> M:
    """Validates a decoded JSON body strictly, as JSON: ``"3"`` is not an integer, ``1`` is not
    ``true``, ``1.0`` is not an id. Enum values and ISO dates are accepted as JSON strings."""
    try:
        return schema.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        raise ValidationFailed("The request has invalid fields.", validation_details(exc)) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _too_deep(data: Any) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def _has_lone_surrogate(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400/415 that says what is wrong with it.

    Stricter than ``json.loads``: ``NaN`` and ``Infinity`` are not JSON (RFC 8259), nor are
    numbers too large for a double, text with unpaired surrogates, or nesting past
    ``MAX_JSON_DEPTH``."""
    raw = request.get_data(cache=True)
    _check_unannounced_length(raw)
    if request.mimetype != "application/json":
        # A multipart body was parsed (and so consumed) by read_body_first: its length says
        # it was there.
        if not (raw or request.content_length):
            raise BadRequest("A JSON body is required.")
        raise ApiError("Send the body as application/json.", status=415,
                       code="unsupported_media_type")
    if not raw.strip():
        raise BadRequest("A JSON body is required.")
    try:
        data = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    if _too_deep(data):
        raise BadRequest(f"The body is nested more than {MAX_JSON_DEPTH} levels deep.")
    if _has_lone_surrogate(data):
        raise BadRequest("The body has text that is not valid Unicode (an unpaired surrogate).")
    return data


def json_body(schema: type[M]) -> M:
    return validate(schema, json_object())


def multipart_unreadable() -> ApiError | None:
    """Why the body is not a readable multipart upload, or None: 415 for another media type,
    400 for a multipart body that cannot be read (no boundary, cut off in transit). Both would
    otherwise look like an upload with no fields."""
    if request.mimetype != "multipart/form-data":
        if not (request.content_length or request.get_data(cache=True)):
            return BadRequest("A multipart/form-data body with 'file' and 'kind' is required.")
        return ApiError("Send the upload as multipart/form-data with 'file' and 'kind'.",
                        status=415, code="unsupported_media_type")
    if not request.mimetype_params.get("boundary"):
        return BadRequest("The multipart/form-data Content-Type has no boundary.")
    # werkzeug drops a body it cannot parse and shows empty fields instead.
    if request.content_length and not request.form and not request.files:
        return BadRequest("The body could not be read as multipart/form-data (cut off?).")
    return None


def query_args(schema: type[M]) -> M:
    """Query strings are text by nature, so here ``"2"`` is a fine page number."""
    args: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        args[key] = values if len(values) > 1 else values[0]
    try:
        return schema.model_validate(args)
    except ValidationError as exc:
        raise ValidationFailed("The request has invalid fields.", validation_details(exc)) from None
