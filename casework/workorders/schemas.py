"""Request bodies and the JSON shape of work orders (never the owner's personal data)."""
from __future__ import annotations

from datetime import date

from pydantic import Field

from casework.common.schemas import Lang, PageArgs, Strict
from casework.workorders import lifecycle
from casework.workorders.models import WorkOrder, WorkOrderKind, WorkOrderState


class WorkOrderCreate(Strict):
    company_id: int = Field(ge=1)
    kind: WorkOrderKind
    due_date: date
    note: str = Field("", max_length=5_000)


class WorkOrderTransition(Strict):
    trigger: str = Field(min_length=1, max_length=40,
                         json_schema_extra={"enum": list(lifecycle.BY_NAME)})
    expected_version: int = Field(ge=1)
    note: str = Field("", max_length=5_000)


class WorkOrderQuery(PageArgs):
    state: WorkOrderState | None = None
    case: int | None = Field(None, ge=1)
    company: int | None = Field(None, ge=1)
    kind: WorkOrderKind | None = None
    overdue: bool | None = None
    # The language of the list as a download (?format=); a page of JSON does not use it.
    lang: Lang | None = None


def workorder_dict(order: WorkOrder, allowed_triggers: list[str]) -> dict:
    case = order.case
    return {
        "id": order.id,
        "case_id": order.case_id,
        "case_ref": case.ref,
        "case_kind": case.kind.value,
        "company_id": order.company_id,
        "company_name": order.company.name,
        "kind": order.kind.value,
        "state": order.state.value,
        "due_at": order.due_at.isoformat() if order.due_at else None,
        "overdue": order.overdue,
        "address": f"{case.compound.name} {case.address}".strip(),
        "note": order.note,
        "version": order.version,
        "allowed_triggers": allowed_triggers,
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
    }
