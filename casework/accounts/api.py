"""``/api/v1/auth``, ``/api/v1/me`` and ``/api/v1/companies``."""
from __future__ import annotations

from flask import Blueprint

from casework.accounts import operations, queries
from casework.accounts.auth import bearer_token, current_user, public
from casework.accounts.schemas import LoginRequest, company_dict, user_dict
from casework.accounts.throttle import login_throttled
from casework.common.errors import Unauthorized
from casework.common.requests import json_body
from casework.extensions import db

bp = Blueprint("accounts", __name__)

# The admin's endpoints (users, companies) are in their own module, under this blueprint.
from casework.accounts.admin_api import bp as administration  # noqa: E402

bp.register_blueprint(administration)


@bp.post("/auth/login")
@public
@login_throttled
def login():
    body = json_body(LoginRequest)
    user = operations.check_credentials(body.username, body.password)
    if user is None:
        # Kept even though the request fails: the owner is told when failures pile up.
        operations.record_login_failure(body.username)
        db.session.commit()
        raise Unauthorized("Wrong username or password.")
    operations.clear_login_failures(user.username)
    token = operations.issue_token(user)
    return {"token": token, "user": user_dict(user)}


@bp.post("/auth/logout")
def logout():
    operations.revoke_token(bearer_token())
    return {"logged_out": True}


@bp.get("/me")
def me():
    return user_dict(current_user())


@bp.get("/companies")
def list_companies():
    return {"items": [company_dict(c) for c in queries.companies(current_user())]}
