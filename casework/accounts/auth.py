"""Who is asking: bearer-token authentication for the API and role checks."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import g, request

from casework.accounts.models import Role, User
from casework.accounts.operations import user_for_token
from casework.common import policy
from casework.common.errors import Unauthorized
from casework.common.requests import current_user


def public(view: Callable) -> Callable:
    """Marks a view that answers without authentication (login, health)."""
    view.casework_public = True
    return view


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate_request() -> None:
    """``before_request`` of the API: every endpoint needs a valid token unless public."""
    view = request.url_rule and request.endpoint and _view_function()
    if view is not None and getattr(view, "casework_public", False):
        return
    token = bearer_token()
    if token is None:
        raise Unauthorized("Send 'Authorization: Bearer <token>'; get a token from /api/v1/auth/login.")
    user = user_for_token(token)
    if user is None:
        raise Unauthorized("The token is invalid or expired; log in again.")
    g.user = user


def _view_function():
    from flask import current_app
    return current_app.view_functions.get(request.endpoint)


def require_role(*roles: Role) -> User:
    user = current_user()
    policy.require_role(user, *roles)
    return user


def roles_required(*roles: Role) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            require_role(*roles)
            return view(*args, **kwargs)
        return wrapper
    return decorator
