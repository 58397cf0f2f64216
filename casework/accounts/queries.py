"""Reading users and companies as an admin manages them."""
from __future__ import annotations

import re

from sqlalchemy import Select, or_, select

from casework.accounts.models import Company, User, user_zones
from casework.common.errors import Forbidden, NotFound
from casework.extensions import db


def require_administrator(actor: User) -> None:
    """The policy of every administration operation and read: only an active admin may."""
    if not actor.can_administer:
        raise Forbidden("Only admins manage users, companies and places.", {"roles": ["admin"]})


def filtered_users(actor: User, *, role=None, zone: int | None = None,
                   company: int | None = None, active: bool | None = None,
                   q: str | None = None) -> Select:
    """Users by username, filtered by role, zone, company, active flag or a search in the
    username, display name and email."""
    require_administrator(actor)
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if zone is not None:
        query = query.where(User.id.in_(select(user_zones.c.user_id)
                                        .where(user_zones.c.zone_id == zone)))
    if company is not None:
        query = query.where(User.company_id == company)
    if active is not None:
        query = query.where(User.active.is_(active))
    if q:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", q) + "%"
        query = query.where(or_(*(column.ilike(pattern, escape="\\")
                                  for column in (User.username, User.display_name, User.email))))
    return query.order_by(User.username)


def get_user(actor: User, user_id: int) -> User:
    require_administrator(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def get_company(actor: User, company_id: int) -> Company:
    require_administrator(actor)
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound("No such company.")
    return company


def all_companies() -> Select:
    return select(Company).order_by(Company.name)
