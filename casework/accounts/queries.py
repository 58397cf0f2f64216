"""Reading users and companies: as an admin manages them, who is listed, who is told."""
from __future__ import annotations

import re

from sqlalchemy import Select, or_, select

from casework.accounts import policies
from casework.accounts.models import Company, Role, User, user_zones
from casework.common.errors import NotFound
from casework.common.policy import require_administrator, require_role
from casework.extensions import db

__all__ = ["require_administrator"]  # importable from here, as the admin operations do


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


def companies(user: User) -> list[Company]:
    require_role(user, *policies.SEE_COMPANIES)
    return list(db.session.scalars(select(Company).order_by(Company.name)))


def zone_supervisors(zone_id: int) -> list[User]:
    """The supervisors of a zone; when a zone has none, the district's supervisors (those
    attached to no zone), so that an escalation always reaches someone."""
    in_zone = list(db.session.scalars(
        select(User).join(user_zones, user_zones.c.user_id == User.id)
        .where(user_zones.c.zone_id == zone_id, User.role == Role.SUPERVISOR,
               User.active.is_(True)).order_by(User.id)))
    if in_zone:
        return in_zone
    return [u for u in db.session.scalars(select(User).where(
        User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.id)) if not u.zones]


def zone_officers(zone_id: int) -> list[User]:
    """The active officers of a zone, by name: those a case of the zone may be given to."""
    return list(db.session.scalars(
        select(User).join(user_zones, user_zones.c.user_id == User.id)
        .where(user_zones.c.zone_id == zone_id, User.role == Role.OFFICER,
               User.active.is_(True)).order_by(User.display_name, User.id)))
