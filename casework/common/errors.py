"""The API's error shape: ``{"error": {"code", "message", "details"}}``.

Every failure a client can cause is raised as an ``ApiError`` (or turned into one here), so that
bad input always answers with a clear status and never a 500.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from casework.extensions import db

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None, *, code: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code
        if status:
            self.status = status


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class ValidationFailed(ApiError):
    status, code = 422, "validation_failed"


class TooManyRequests(ApiError):
    status, code = 429, "too_many_requests"


def problem(field: str | None, rule: str, message: str) -> dict[str, str | None]:
    """One entry of a 422's ``details``: which field, which rule it broke, in words."""
    return {"field": field, "rule": rule, "message": message}


# The most problems one error lists: a body of a million unknown keys has a million, and
# answering every one would cost the server more than the request did.
MAX_DETAILS = 50


def _bounded(details: Any) -> Any:
    if not isinstance(details, list) or len(details) <= MAX_DETAILS:
        return details
    left_out = len(details) - MAX_DETAILS
    return [*details[:MAX_DETAILS],
            problem(None, "more_problems", f"{left_out} more problems are not listed; "
                                           "fix these and send the request again.")]


def error_response(status: int, code: str, message: str, details: Any = None):
    body = {"error": {"code": code, "message": message, "details": _bounded(details)}}
    return jsonify(body), status


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
}


def stale_version_error() -> ApiError:
    return Conflict("The record was changed by someone else; reload it and try again.",
                    code="stale_version")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError):
        db.session.rollback()
        err = stale_version_error()
        return error_response(err.status, err.code, err.message)

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):
        db.session.rollback()
        log.warning("integrity conflict: %s", type(exc.orig).__name__)
        return error_response(409, "conflict", "The change conflicts with another one; try again.")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        db.session.rollback()
        status = exc.code or 500
        if status == 413:
            # A phone app needs the limit to shrink or split what it sends. JSON bodies and
            # uploads have limits of their own (see requests.limit_body_size).
            limit = request.max_content_length
            return error_response(413, "payload_too_large",
                                  f"The request is larger than the {limit} bytes accepted.",
                                  {"max_bytes": limit})
        response, status = error_response(status, _HTTP_CODES.get(status, "http_error"),
                                          exc.description or exc.name)
        # What the exception tells the client besides its body: Allow on a 405 above all.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error")
        return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")
