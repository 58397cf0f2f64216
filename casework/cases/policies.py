"""Who may do what with cases (spec section 8). Operations and queries ask these first."""
from __future__ import annotations

from casework.accounts.models import Role, User
from casework.cases.models import Case


def can_record_cases(user: User) -> bool:
    return user.role in (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)


def can_list_cases(user: User) -> bool:
    """Company users see their work orders, never the case list."""
    return user.role is not Role.COMPANY


def can_see(user: User, case: Case) -> bool:
    return user.can_see_zone(case.zone_id)


def can_edit(user: User, case: Case) -> bool:
    return user.works_cases and can_see(user, case)
