"""The work-order lifecycle (spec section 4), declared once, as data.

assigned → accepted → completed → verified; completed → rejected → accepted again (rework);
any open state → cancelled by an officer or supervisor.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework.accounts.models import Role
from casework.common.lifecycle import Deadline, Guard, Lifecycle, Notify, Trigger
from casework.workorders.models import WorkOrderState

W = WorkOrderState
COMPANY = frozenset({Role.COMPANY})
OFFICER_OR_SUPERVISOR = frozenset({Role.OFFICER, Role.SUPERVISOR})


@dataclass(frozen=True)
class WorkOrderGuardInput:
    photos: int
    note: str
    now: datetime


NOTE_GIVEN = Guard("note_required", "A note (the reason) is required.", lambda g: bool(g.note.strip()), field="note")

TRIGGERS: tuple[Trigger, ...] = (
    Trigger("accept", "接单", (W.ASSIGNED, W.REJECTED), W.ACCEPTED, COMPANY,
            fields=("note",), deadline=Deadline.keep, notify=(Notify.officer,)),
    Trigger("complete", "完成", (W.ACCEPTED,), W.COMPLETED, COMPANY,
            guards=(Guard("photo_required", "A photo of the finished work is required.",
                          lambda g: g.photos > 0, field="attachment"),),
            fields=("note",), notify=(Notify.officer,)),
    Trigger("verify", "验收", (W.COMPLETED,), W.VERIFIED, OFFICER_OR_SUPERVISOR,
            fields=("note",), notify=(Notify.company,)),
    Trigger("reject", "退回返工", (W.COMPLETED,), W.REJECTED, OFFICER_OR_SUPERVISOR,
            guards=(NOTE_GIVEN,), fields=("note",),
            deadline=Deadline.days("CASEWORK_DAYS_TO_REWORK"), notify=(Notify.company,)),
    Trigger("cancel", "取消", (W.ASSIGNED, W.ACCEPTED, W.COMPLETED, W.REJECTED), W.CANCELLED,
            OFFICER_OR_SUPERVISOR, guards=(NOTE_GIVEN,), fields=("note",),
            notify=(Notify.company,)),
)

LIFECYCLE = Lifecycle("Casework work-order lifecycle", "work order", WorkOrderState, W.ASSIGNED,
                      TRIGGERS)
BY_NAME: dict[str, Trigger] = LIFECYCLE.by_name
INITIAL_STATE = LIFECYCLE.initial
machine = LIFECYCLE.machine


def workflow_document(config=None) -> dict:
    """The work-order lifecycle as data, for ``GET /api/v1/workflow``."""
    return LIFECYCLE.document(config)
