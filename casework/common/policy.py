"""Refusing what a policy does not allow, the same way for every domain.

Each domain states who may do what as ``can_*`` rules (in its ``policies`` module); its
operations and queries ask them first and refuse with these helpers, so the API, the pages,
the CLI and the workers all get the same answer.
"""
from __future__ import annotations

from typing import Any

from casework.common.errors import Forbidden


def require(allowed: bool, message: str, details: Any = None) -> None:
    if not allowed:
        raise Forbidden(message, details)


def require_role(user: Any, *roles: Any) -> None:
    """For actions that belong to whole roles: the 403 names the roles that may."""
    names = [r.value for r in roles]
    require(user.role in roles, f"This needs the role {' or '.join(names)}.", {"roles": names})


def require_administrator(actor: Any) -> None:
    """The policy of every administration operation and read: only an active admin may."""
    require(actor.can_administer, "Only admins manage users, companies and places.",
            {"roles": ["admin"]})
