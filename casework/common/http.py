"""What every response and every route share at the HTTP level: ids that fit the database,
and the headers that keep a browser from sniffing, framing or caching the API."""
from __future__ import annotations

from flask import Response, request
from werkzeug.routing import IntegerConverter

# Ids are the databases' INTEGER columns (32-bit signed on PostgreSQL).
MAX_ID = 2**31 - 1

# JSON, files and errors need nothing from a page: they may load nothing and be framed nowhere.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _digits_not_above(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to ``limit``: shorter numbers, or
    as long ones that agree with ``limit`` up to a smaller digit, or ``limit`` itself."""
    digits = str(limit)
    options = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        lowest = 1 if i == 0 and len(digits) > 1 else 0
        if int(digit) > lowest:
            rest = len(digits) - i - 1
            options.append(f"{digits[:i]}[{lowest}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number beyond the database's integers matches no route
    (404 whatever the method), instead of reaching the database and overflowing there. The
    bound is in the pattern, not only in ``max``: a number that matches the pattern and then
    fails ``max`` would answer 405 to a method another route of that path takes."""

    regex = _digits_not_above(MAX_ID)

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def secure_headers(response: Response) -> Response:
    """Headers every response of the API and the server itself carries. Pages (HTML) set
    their own policy in the web layer, which runs after this and keeps what is set here."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        return response
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", API_POLICY)
    if request.path.startswith("/api/"):
        # Cases, owners and evidence: nothing of the API may stay in a shared or browser cache.
        headers["Cache-Control"] = "no-store"
    return response
