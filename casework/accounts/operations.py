"""Creating users and companies, checking passwords, issuing and resolving API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from casework import clock
from casework.accounts.models import ApiToken, Company, LoginFailure, Role, User
from casework.extensions import db
from casework.notifications.models import NotificationKind
from casework.notifications.operations import notify_users
from casework.places.models import Zone

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


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["CASEWORK_PASSWORD_HASH_METHOD"])


def set_password(user: User, password: str) -> None:
    user.password_hash = _hash(password)


def recent_login_failures(username: str) -> int:
    window = timedelta(minutes=current_app.config["CASEWORK_LOGIN_WINDOW_MINUTES"])
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
    if failures != current_app.config["CASEWORK_LOGIN_NOTICE_FAILURES"]:
        return
    user = db.session.scalar(select(User).where(User.username == username))
    if user is not None:
        notify_users([user], NotificationKind.LOGIN_FAILURES,
                     {"failures": failures,
                      "minutes": current_app.config["CASEWORK_LOGIN_WINDOW_MINUTES"]})


def clear_login_failures(username: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))


def issue_token(user: User) -> str:
    """A new bearer token for ``user``; the plain token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["CASEWORK_TOKEN_DAYS"]
    db.session.add(ApiToken(user=user, token_hash=hash_token(token),
                            expires_at=clock.now() + timedelta(days=days) if days else None))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or (row.expires_at is not None and row.expires_at <= clock.now()):
        return None
    return row.user if row.user.active else None


def revoke_token(token: str) -> None:
    db.session.execute(delete(ApiToken).where(ApiToken.token_hash == hash_token(token)))


def purge_login_failures() -> int:
    """Failed logins older than the throttling window count for nothing any more."""
    window = timedelta(minutes=current_app.config["CASEWORK_LOGIN_WINDOW_MINUTES"])
    return db.session.execute(delete(LoginFailure).where(
        LoginFailure.at < clock.now() - window)).rowcount


def purge_expired_tokens() -> int:
    """Tokens past their expiry open nothing; their rows only say when someone logged in."""
    return db.session.execute(delete(ApiToken).where(
        ApiToken.expires_at.is_not(None), ApiToken.expires_at <= clock.now())).rowcount
