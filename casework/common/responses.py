"""Where errors become responses: the one place that turns an ``ApiError``, a conflict found
by the database, an HTTP error or anything unexpected into the API's error shape, after
rolling back whatever the request had changed."""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from casework.common.errors import ApiError, error_response, stale_version_error
from casework.extensions import db

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
}


def error_as_response(err: ApiError) -> Response:
    """An ``ApiError`` as a finished response, for code past the view (the commit, a replay)."""
    body, status = error_response(err.status, err.code, err.message, err.details)
    response = jsonify(body)
    response.status_code = status
    return response


def is_busy(exc: OperationalError) -> bool:
    """SQLite's answer when another write held the lock for longer than the busy timeout."""
    return "database is locked" in str(exc.orig)


def busy_response() -> Response:
    """The database was busy with other writes: nothing changed; the client tries again."""
    response = error_as_response(ApiError("The server is busy with other changes; nothing was "
                                          "changed. Try again in a few seconds.",
                                          status=503, code="busy"))
    response.headers["Retry-After"] = "5"
    return response


def conflict_response() -> Response:
    return error_as_response(ApiError("The change conflicts with another one; try again.",
                                      status=409, code="conflict"))


def _is_page() -> bool:
    """Addresses outside the API are pages (or their files): their errors are pages too."""
    return not request.path.startswith(("/api/", "/health"))


def _page(status: int, exc: Exception):
    from casework.web.errors import error_page
    return error_page(status, exc)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        db.session.rollback()
        if _is_page():
            return _page(404 if exc.status in (403, 404) else exc.status, exc)
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError):
        db.session.rollback()
        return error_as_response(stale_version_error())

    @app.errorhandler(OperationalError)
    def _operational(exc: OperationalError):
        db.session.rollback()
        if is_busy(exc):
            return busy_response()
        log.exception("database error")
        if _is_page():
            return _page(500, exc)
        return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):
        db.session.rollback()
        log.warning("integrity conflict: %s", type(exc.orig).__name__)
        return conflict_response()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        db.session.rollback()
        status = exc.code or 500
        if _is_page() and status != 405:
            return _page(status, exc)
        if status == 413:
            # A phone app needs the limit to shrink or split what it sends. JSON bodies and
            # uploads have limits of their own (see requests.limit_body_size).
            limit = request.max_content_length
            return error_response(413, "payload_too_large",
                                  f"The request is larger than the {limit} bytes accepted.",
                                  {"max_bytes": limit})
        body, status = error_response(status, _HTTP_CODES.get(status, "http_error"),
                                      exc.description or exc.name)
        response = jsonify(body)
        # What the exception tells the client besides its body: Allow on a 405 above all.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error")
        if _is_page():
            return _page(500, exc)
        return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")
