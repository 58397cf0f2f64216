"""Creating users and companies, checking passwords, issuing and resolving API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from casework import clock
from casework.accounts.models import ApiToken, Company, LoginFailure, Role, User
from casework.accounts.queries import get_company, get_user, require_administrator
from casework.common.errors import Conflict, ValidationFailed, problem
from casework.extensions import db
from casework.notifications.models import NotificationKind
from casework.notifications.operations import notify_users
from casework.places.models import Zone
from casework.settings import setting

# Compared against when the username is unknown, so that a wrong username and a wrong
# password take the same time.
_DUMMY_HASH = generate_password_hash("casework-dummy-password")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_or_create_company(name: str) -> Company:
    company = db.session.scalar(select(Company).where(Company.name == name))
    if company is None:
        company = Company(name=name)
        db.session.add(company)
        db.session.flush()
    return company


def create_user(username: str, password: str, role: Role, *, display_name: str | None = None,
                zones: list[Zone] = (), company: Company | None = None) -> User:
    if role is Role.COMPANY and company is None:
        raise ValueError("a company user needs a company")
    if role is not Role.COMPANY and company is not None:
        raise ValueError("only company users belong to a company")
    if zones and role not in (Role.OFFICER, Role.SUPERVISOR):
        raise ValueError("only officers and supervisors belong to zones")
    user = User(username=username, display_name=display_name or username,
                password_hash=_hash(password), role=role,
                company=company, zones=list(zones), active=True)
    db.session.add(user)
    db.session.flush()
    return user


# Administration: admins manage users and companies, so that nothing needs a shell ------------

def _zones_by_id(zone_ids: list[int], problems: list[dict]) -> list[Zone]:
    wanted = sorted(set(zone_ids))
    zones = list(db.session.scalars(select(Zone).where(Zone.id.in_(wanted)).order_by(Zone.code)))
    missing = sorted(set(wanted) - {zone.id for zone in zones})
    if missing:
        problems.append(problem("zone_ids", "exists",
                                f"No such zone: {', '.join(map(str, missing))}."))
    return zones


def _company_by_id(company_id: int | None, problems: list[dict]) -> Company | None:
    if company_id is None:
        return None
    company = db.session.get(Company, company_id)
    if company is None:
        problems.append(problem("company_id", "exists", "No such company."))
    return company


def role_problems(role: Role, zones: list[Zone], company: Company | None,
                  company_given: bool) -> list[dict]:
    """What a role needs (spec section 2): officers work in at least one zone, supervisors in
    zones or (with none) the whole district, a company user belongs to a company, and nobody
    else has zones or a company."""
    problems = []
    if role is Role.OFFICER and not zones:
        problems.append(problem("zone_ids", "required_for_role",
                                "An officer needs at least one zone."))
    if role not in (Role.OFFICER, Role.SUPERVISOR) and zones:
        problems.append(problem("zone_ids", "not_for_role",
                                "Only officers and supervisors belong to zones."))
    if role is Role.COMPANY and company is None and not company_given:
        problems.append(problem("company_id", "required_for_role",
                                "A company user needs a company."))
    if role is not Role.COMPANY and company_given:
        problems.append(problem("company_id", "not_for_role",
                                "Only company users belong to a company."))
    return problems


def _username_taken(username: str) -> bool:
    return db.session.scalar(select(User.id).where(User.username == username)) is not None


def create_account(actor: User, *, username: str, password: str, role: Role,
                   display_name: str | None = None, email: str | None = None,
                   locale: str = "zh", zone_ids: list[int] = (),
                   company_id: int | None = None) -> User:
    """An admin creates a user with a role and the zones or company that role needs."""
    require_administrator(actor)
    problems: list[dict] = []
    zones = _zones_by_id(list(zone_ids), problems)
    company = _company_by_id(company_id, problems)
    problems += role_problems(role, zones, company, company_id is not None)
    if problems:
        raise ValidationFailed("The user cannot be created.", problems)
    if _username_taken(username):
        raise Conflict(f"A user named {username!r} already exists.", code="duplicate")
    user = create_user(username, password, role, display_name=display_name, zones=zones,
                       company=company)
    user.email, user.locale = email, locale
    db.session.flush()
    return user


def revoke_tokens(user: User) -> int:
    """Every API token of ``user`` stops working at once."""
    return db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount


def update_account(actor: User, user_id: int, changes: dict[str, Any]) -> User:
    """An admin changes a user: name, email, language, role with its zones or company, the
    active flag, or a new password. Deactivating a user or resetting its password revokes its
    API tokens; an admin cannot deactivate itself or change its own role (someone must remain
    able to administer)."""
    user = get_user(actor, user_id)
    if not changes:
        raise ValidationFailed("Nothing to change.",
                               [problem(None, "not_empty", "Send at least one field to change.")])
    problems: list[dict] = []
    for name in ("display_name", "locale", "role", "zone_ids", "active", "password"):
        if name in changes and changes[name] is None:
            problems.append(problem(name, "not_null", "This field cannot be null."))
    if problems:
        raise ValidationFailed("The user cannot be changed.", problems)
    role = changes.get("role", user.role)
    zones = (_zones_by_id(changes["zone_ids"], problems) if "zone_ids" in changes
             else list(user.zones))
    if "company_id" in changes:
        company = _company_by_id(changes["company_id"], problems)
        company_given = changes["company_id"] is not None
    else:
        company, company_given = user.company, user.company is not None
    problems += role_problems(role, zones, company, company_given)
    if user.id == actor.id:
        if changes.get("active") is False:
            problems.append(problem("active", "not_self", "You cannot deactivate yourself."))
        if role is not user.role:
            problems.append(problem("role", "not_self", "You cannot change your own role."))
    if problems:
        raise ValidationFailed("The user cannot be changed.", problems)

    user.role, user.zones, user.company = role, zones, company
    for name in ("display_name", "email", "locale"):
        if name in changes:
            setattr(user, name, changes[name])
    if "password" in changes:
        set_password(user, changes["password"])
        clear_login_failures(user.username)
        revoke_tokens(user)
    if "active" in changes:
        user.active = changes["active"]
        if not user.active:
            revoke_tokens(user)
    db.session.flush()
    return user


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def create_company_account(actor: User, *, name: str, contact: str | None = None,
                           webhook_url: str | None = None) -> tuple[Company, str]:
    """An admin adds a property company. It gets a webhook signing secret at once, returned
    here and never readable again (only replaced, by ``rotate_webhook_secret``)."""
    require_administrator(actor)
    if db.session.scalar(select(Company.id).where(Company.name == name)) is not None:
        raise Conflict(f"A company named {name!r} already exists.", code="duplicate")
    secret = new_webhook_secret()
    company = Company(name=name, contact=contact, webhook_url=webhook_url, webhook_secret=secret)
    db.session.add(company)
    db.session.flush()
    return company, secret


def update_company_account(actor: User, company_id: int, changes: dict[str, Any]) -> Company:
    """An admin renames a company or changes its contact or webhook address."""
    company = get_company(actor, company_id)
    if not changes:
        raise ValidationFailed("Nothing to change.",
                               [problem(None, "not_empty", "Send at least one field to change.")])
    if "name" in changes and changes["name"] is None:
        raise ValidationFailed("The company cannot be changed.",
                               [problem("name", "not_null", "This field cannot be null.")])
    name = changes.get("name", company.name)
    duplicate = select(Company.id).where(Company.name == name, Company.id != company.id)
    if db.session.scalar(duplicate) is not None:
        raise Conflict(f"A company named {name!r} already exists.", code="duplicate")
    for field in ("name", "contact", "webhook_url"):
        if field in changes:
            setattr(company, field, changes[field])
    db.session.flush()
    return company


def rotate_webhook_secret(actor: User, company_id: int) -> tuple[Company, str]:
    """A new signing secret replaces the old one at once; the company must be told it."""
    company = get_company(actor, company_id)
    secret = new_webhook_secret()
    company.webhook_secret = secret
    db.session.flush()
    return company, secret


def _hash(password: str) -> str:
    return generate_password_hash(password, method=setting("CASEWORK_PASSWORD_HASH_METHOD"))


def set_password(user: User, password: str) -> None:
    user.password_hash = _hash(password)


def recent_login_failures(username: str) -> int:
    window = timedelta(minutes=setting("CASEWORK_LOGIN_WINDOW_MINUTES"))
    return db.session.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.at > clock.now() - window)
    ) or 0


def check_credentials(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def record_login_failure(username: str) -> None:
    """Counts a failed login for ``username``; the account's owner is told in its inbox the
    moment failures within the window reach CASEWORK_LOGIN_NOTICE_FAILURES (once, not again
    for each failure after)."""
    db.session.add(LoginFailure(username=username[:80]))
    db.session.flush()
    failures = recent_login_failures(username[:80])
    if failures != setting("CASEWORK_LOGIN_NOTICE_FAILURES"):
        return
    user = db.session.scalar(select(User).where(User.username == username))
    if user is not None:
        notify_users([user], NotificationKind.LOGIN_FAILURES,
                     {"failures": failures,
                      "minutes": setting("CASEWORK_LOGIN_WINDOW_MINUTES")})


def clear_login_failures(username: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))


def issue_token(user: User) -> str:
    """A new bearer token for ``user``; the plain token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    days = setting("CASEWORK_TOKEN_DAYS")
    db.session.add(ApiToken(user=user, token_hash=hash_token(token),
                            expires_at=clock.now() + timedelta(days=days) if days else None))
    db.session.flush()
    return token


def with_what_rules_ask():
    """Loads a user with what the access rules read on every request (zones, company), in
    the same query."""
    return (joinedload(User.zones), joinedload(User.company))


def user_for_token(token: str) -> User | None:
    """The active user of an unexpired token, with its zones and company: one query."""
    return db.session.scalars(
        select(User).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), User.active.is_(True),
               or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > clock.now()))
        .options(*with_what_rules_ask())).unique().one_or_none()


def active_user(user_id: int) -> User | None:
    """A page session's user, as ``user_for_token`` loads a token's."""
    return db.session.scalars(select(User).where(User.id == user_id, User.active.is_(True))
                              .options(*with_what_rules_ask())).unique().one_or_none()


def revoke_token(token: str) -> None:
    db.session.execute(delete(ApiToken).where(ApiToken.token_hash == hash_token(token)))


def purge_login_failures() -> int:
    """Failed logins older than the throttling window count for nothing any more."""
    window = timedelta(minutes=setting("CASEWORK_LOGIN_WINDOW_MINUTES"))
    return db.session.execute(delete(LoginFailure).where(
        LoginFailure.at < clock.now() - window)).rowcount


def purge_expired_tokens() -> int:
    """Tokens past their expiry open nothing; their rows only say when someone logged in."""
    return db.session.execute(delete(ApiToken).where(
        ApiToken.expires_at.is_not(None), ApiToken.expires_at <= clock.now())).rowcount
