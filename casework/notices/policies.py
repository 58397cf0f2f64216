"""Who may print and issue the papers."""
from __future__ import annotations

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.policies import can_edit


def can_issue_notice(user: User, case: Case) -> bool:
    """The notice names the owner: officers and supervisors of the case's zone only."""
    return can_edit(user, case) and user.sees_personal_data
