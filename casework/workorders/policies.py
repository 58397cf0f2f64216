"""Who may do what with work orders (spec sections 4 and 8). Operations ask these first."""
from __future__ import annotations

from casework.accounts.models import Role, User
from casework.workorders.models import WorkOrder


def can_issue(user: User) -> bool:
    return user.works_cases


def can_see(user: User, order: WorkOrder) -> bool:
    """A company sees only its own work orders; officers and supervisors those of their
    zones' cases."""
    if user.role is Role.COMPANY:
        return order.company_id == user.company_id
    return user.can_see_zone(order.zone_id)


def can_add_files(user: User, order: WorkOrder) -> bool:
    return user.role in (Role.COMPANY, Role.OFFICER, Role.SUPERVISOR) and can_see(user, order)
