"""The API's error shape: ``{"error": {"code", "message", "details"}}``.

Every failure a client can cause is raised as an ``ApiError``, so that bad input always answers
with a clear status and never a 500. The operations raise them without knowing about HTTP;
``casework.common.responses`` turns them (and every other failure) into responses.
"""
from __future__ import annotations

from typing import Any


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


def error_response(status: int, code: str, message: str, details: Any = None
                   ) -> tuple[dict[str, Any], int]:
    """The error body and its status, as a view or error handler returns them."""
    return {"error": {"code": code, "message": message, "details": _bounded(details)}}, status


def stale_version_error() -> ApiError:
    return Conflict("The record was changed by someone else; reload it and try again.",
                    code="stale_version")
