"""Which work orders a user may see: a company only its own, officers and supervisors those
of their zones' cases (spec sections 4 and 8)."""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from casework import clock
from casework.accounts.models import Role, User
from casework.cases.models import Case
from casework.common.errors import NotFound
from casework.extensions import db
from casework.workorders import lifecycle
from casework.workorders.models import WorkOrder, WorkOrderState
from casework.workorders.schemas import WorkOrderQuery

LATE_STATES = [WorkOrderState.ASSIGNED, WorkOrderState.ACCEPTED, WorkOrderState.REJECTED]


def visible_workorders(user: User) -> Select:
    query = select(WorkOrder)
    if user.role is Role.COMPANY:
        return query.where(WorkOrder.company_id == user.company_id)
    if not user.sees_whole_district:
        query = query.where(WorkOrder.case_id.in_(
            select(Case.id).where(Case.zone_id.in_(user.zone_ids))))
    return query


def get_visible_workorder(user: User, workorder_id: int, *, for_update: bool = False) -> WorkOrder:
    query = visible_workorders(user).where(WorkOrder.id == workorder_id)
    if for_update:
        query = query.with_for_update(of=WorkOrder).execution_options(populate_existing=True)
    order = db.session.scalar(query)
    if order is None:
        raise NotFound("No such work order.")
    return order


def filtered_workorders(user: User, args: WorkOrderQuery) -> Select:
    query = visible_workorders(user)
    if args.state:
        query = query.where(WorkOrder.state == args.state)
    if args.case:
        query = query.where(WorkOrder.case_id == args.case)
    if args.company:
        query = query.where(WorkOrder.company_id == args.company)
    if args.kind:
        query = query.where(WorkOrder.kind == args.kind)
    if args.overdue is not None:
        late = (WorkOrder.due_at <= clock.now()) & WorkOrder.state.in_(LATE_STATES)
        query = query.where(late if args.overdue else ~late | WorkOrder.due_at.is_(None))
    # A page shows each order's case, compound and company: load them per page, not per row.
    return (query.options(selectinload(WorkOrder.company),
                          selectinload(WorkOrder.case).selectinload(Case.compound))
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()))


def allowed_triggers(order: WorkOrder, user: User) -> list[str]:
    if user.role is Role.COMPANY and order.company_id != user.company_id:
        return []
    return [t.name for t in lifecycle.TRIGGERS if order.state in t.sources and user.role in t.roles]
