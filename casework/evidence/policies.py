"""Who may add evidence, and of which kinds (spec sections 2, 4 and 8)."""
from __future__ import annotations

from casework.accounts.models import User
from casework.cases import policies as case_policies
from casework.cases.models import Case
from casework.evidence.models import AttachmentKind
from casework.workorders import policies as workorder_policies
from casework.workorders.models import WorkOrder

CASE_PHOTO_KINDS = (AttachmentKind.BEFORE_PHOTO, AttachmentKind.AFTER_PHOTO)
# What a work order's files may be. Ownership documents, agreements and notices carry the
# owner's personal data: they belong on the case, which a company never sees.
WORKORDER_KINDS = CASE_PHOTO_KINDS + (AttachmentKind.OTHER,)


def can_add_to_case(user: User, case: Case) -> bool:
    """Officers and supervisors of the case's zone add evidence to a case."""
    return user.works_cases and case_policies.can_see(user, case)


def can_add_to_workorder(user: User, order: WorkOrder) -> bool:
    """The company doing the work, and officers and supervisors of the zone, add photos."""
    return workorder_policies.can_add_files(user, order)
