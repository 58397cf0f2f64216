"""Slowing password guessing down where it comes from, without locking anyone out.

Failed logins are counted per (username, client address) and per client address (one guess
sprayed over many usernames). Past either limit that address waits (429 with Retry-After)
until the window has moved on; the account's owner, logging in from its own address, is never
held up by someone else's guesses. The counters live in Flask-Limiter's storage: memory in the
embedded default, Redis in production (CASEWORK_RATELIMIT_STORAGE_URI), so that every web
process counts together.
"""
from __future__ import annotations

from typing import Callable

from flask import Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)


def _username_at_address() -> str:
    # The API signs in with JSON, the sign-in page with a form: both count for the same name.
    # The API's body is never parsed as a form here (that would consume it before the view).
    if request.path.startswith("/api/"):
        body = request.get_json(silent=True)
    else:
        body = request.form
    username = body.get("username") if hasattr(body, "get") else None
    return f"{str(username)[:80]}@{get_remote_address()}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


_MESSAGE = "Too many failed logins from this address; try again in a little while."


def login_throttled(view: Callable) -> Callable:
    per_user = limiter.limit(lambda: current_app.config["CASEWORK_LOGIN_LIMIT"],
                             key_func=_username_at_address, deduct_when=_failed,
                             scope="login-user", error_message=_MESSAGE)
    per_address = limiter.limit(lambda: current_app.config["CASEWORK_LOGIN_ADDRESS_LIMIT"],
                                key_func=get_remote_address, deduct_when=_failed,
                                scope="login-address", error_message=_MESSAGE)
    return per_address(per_user(view))
