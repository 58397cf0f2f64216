"""``/api/v1/users`` and ``/api/v1/companies`` writes: the admin's endpoints, so that nothing
needs a shell on the server. Who may is decided by the operations and queries they call."""
from __future__ import annotations

from flask import Blueprint

from casework.accounts import operations, queries
from casework.accounts.auth import current_user
from casework.accounts.schemas import (CompanyCreate, CompanyPatch, UserCreate, UserPatch,
                                       UserQuery, company_account, user_account)
from casework.common.idempotency import idempotent
from casework.common.paging import paginate
from casework.common.requests import json_body, query_args

bp = Blueprint("administration", __name__)


@bp.get("/users")
def list_users():
    args = query_args(UserQuery)
    query = queries.filtered_users(current_user(), role=args.role, zone=args.zone,
                                   company=args.company, active=args.active, q=args.q)
    return paginate(query, args.page, args.per_page, user_account)


@bp.post("/users")
@idempotent
def create_user():
    body = json_body(UserCreate)
    user = operations.create_account(current_user(), **body.model_dump())
    return user_account(user), 201


@bp.get("/users/<int:user_id>")
def get_user(user_id: int):
    return user_account(queries.get_user(current_user(), user_id))


@bp.patch("/users/<int:user_id>")
@idempotent
def update_user(user_id: int):
    body = json_body(UserPatch)
    user = operations.update_account(current_user(), user_id, body.model_dump(exclude_unset=True))
    return user_account(user)


@bp.post("/companies")
@idempotent
def create_company():
    body = json_body(CompanyCreate)
    company, secret = operations.create_company_account(current_user(), **body.model_dump())
    return company_account(company, secret), 201


@bp.get("/companies/<int:company_id>")
def get_company(company_id: int):
    return company_account(queries.get_company(current_user(), company_id))


@bp.patch("/companies/<int:company_id>")
@idempotent
def update_company(company_id: int):
    body = json_body(CompanyPatch)
    company = operations.update_company_account(current_user(), company_id,
                                                body.model_dump(exclude_unset=True))
    return company_account(company)


@bp.post("/companies/<int:company_id>/secret")
@idempotent
def rotate_company_secret(company_id: int):
    company, secret = operations.rotate_webhook_secret(current_user(), company_id)
    return company_account(company, secret)
