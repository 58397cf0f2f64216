"""Request bodies and the JSON shape of work orders (never the owner's personal data)."""
from __future__ import annotations

from datetime import date

from typing import Annotated

from pydantic import Field

from casework.common.schemas import Lang, ListArgs, ListPage, Shape, Strict, Timestamp
from casework.workorders import lifecycle
from casework.cases.models import CaseKind
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


class WorkOrderQuery(ListArgs):
    state: WorkOrderState | None = None
    case: int | None = Field(None, ge=1)
    company: int | None = Field(None, ge=1)
    kind: WorkOrderKind | None = None
    overdue: bool | None = None
    # The language of the list as a download (?format=); a page of JSON does not use it.
    lang: Lang | None = None


class WorkOrderOut(Shape):
    """A work order as the API answers it: never any owner's personal data."""

    id: int
    case_id: int
    case_ref: str
    case_kind: CaseKind
    company_id: int
    company_name: str
    kind: WorkOrderKind
    state: WorkOrderState
    due_at: Timestamp | None
    overdue: bool
    address: str
    note: str
    version: int
    allowed_triggers: list[Annotated[str, Field(json_schema_extra={"enum": list(lifecycle.BY_NAME)})]]
    created_at: Timestamp
    updated_at: Timestamp


class WorkOrderPage(ListPage):
    items: list[WorkOrderOut]


def workorder_dict(order: WorkOrder, allowed_triggers: list[str]) -> dict:
    case = order.case
    return WorkOrderOut(
        id=order.id, case_id=order.case_id, case_ref=case.ref, case_kind=case.kind,
        company_id=order.company_id, company_name=order.company.name, kind=order.kind,
        state=order.state, due_at=order.due_at, overdue=order.overdue,
        address=f"{case.compound.name} {case.address}".strip(), note=order.note,
        version=order.version, allowed_triggers=allowed_triggers,
        created_at=order.created_at, updated_at=order.updated_at).model_dump(mode="json")
