"""Work orders (工单) for property-management companies."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework import clock
from casework.accounts.models import Company, User
from casework.cases.models import Case
from casework.common.types import StrEnumType, UtcDateTime
from casework.extensions import db


class WorkOrderKind(str, enum.Enum):
    POST_NOTICE = "post_notice"
    CLEAR_DEBRIS = "clear_debris"
    RESTORE_SITE = "restore_site"
    ASSIST_DEMOLITION = "assist_demolition"

    @property
    def title(self) -> str:
        return {"post_notice": "张贴告知书", "clear_debris": "清运垃圾",
                "restore_site": "场地恢复", "assist_demolition": "协助拆除"}[self.value]


class WorkOrderState(str, enum.Enum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    VERIFIED = "verified"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """Verified or cancelled: nothing more happens to the work order."""
        return self in (WorkOrderState.VERIFIED, WorkOrderState.CANCELLED)

    @property
    def is_finished(self) -> bool:
        return self.is_final

    @property
    def title(self) -> str:
        return {"assigned": "已派单", "accepted": "已接单", "completed": "已完成",
                "verified": "已验收", "rejected": "已退回", "cancelled": "已取消"}[self.value]


# The states in which the company is held to a due date (the sweep watches them; past the
# date, the work order is overdue).
DEADLINE_STATES = (WorkOrderState.ASSIGNED, WorkOrderState.ACCEPTED, WorkOrderState.REJECTED)
OWED = f"state IN ({', '.join(repr(state.value) for state in DEADLINE_STATES)})"


class WorkOrder(db.Model):
    __tablename__ = "workorders"
    __table_args__ = (
        Index("ix_workorders_due_at", "due_at"),
        Index("ix_workorders_company_state", "company_id", "state"),
        # The list is newest first, (created_at, id), whole or by company or state.
        Index("ix_workorders_created", "created_at", "id"),
        Index("ix_workorders_company_created", "company_id", "created_at", "id"),
        Index("ix_workorders_state_created", "state", "created_at", "id"),
        # A zone's work orders in the list's order (an officer's or a zone supervisor's list).
        Index("ix_workorders_zone_created", "zone_id", "created_at", "id"),
        # What the companies still owe, by due date: the sweep reads only these (0018).
        Index("ix_workorders_owed_due_at", "due_at", postgresql_where=text(OWED),
              sqlite_where=text(OWED)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    # The case's zone, copied so that a zone's list reads one index; a database trigger
    # (migration 0017) moves it with the case.
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    kind: Mapped[WorkOrderKind] = mapped_column(StrEnumType(WorkOrderKind, "workorder_kind"))
    state: Mapped[WorkOrderState] = mapped_column(StrEnumType(WorkOrderState, "workorder_state"))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now,
                                                 onupdate=clock.now)

    case: Mapped[Case] = relationship()
    company: Mapped[Company] = relationship()
    created_by: Mapped[User] = relationship()
    # Read by the lifecycle's photo guard; files are added by ``evidence``, which depends on
    # work orders, not the reverse.
    attachments: Mapped[list["Attachment"]] = relationship(  # noqa: F821
        viewonly=True, order_by="Attachment.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def overdue(self) -> bool:
        return (self.due_at is not None and self.state in DEADLINE_STATES
                and self.due_at <= clock.now())


def workorder_payload(order: WorkOrder) -> dict:
    """What a company's webhook is told about a work order: never the owner's personal data."""
    return {"workorder": {"id": order.id, "case_ref": order.case.ref, "kind": order.kind.value,
                          "state": order.state.value,
                          "due_at": order.due_at.isoformat() if order.due_at else None,
                          "address": f"{order.case.compound.name} {order.case.address}".strip(),
                          "note": order.note}}
