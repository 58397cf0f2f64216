"""Which work orders a user may see: a company only its own, officers and supervisors those
of their zones' cases (spec sections 4 and 8)."""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from casework import clock
from casework.accounts.models import Role, User
from casework.cases.models import Case
from casework.common.queries import one_or_404, overdue_filter
from casework.workorders import lifecycle, policies
from casework.workorders.models import DEADLINE_STATES, WorkOrder
from casework.workorders.schemas import WorkOrderQuery

LATE_STATES = DEADLINE_STATES  # the name callers used before the states moved to the model

def visible_workorders(user: User) -> Select:
    query = select(WorkOrder)
    if user.role is Role.COMPANY:
        return query.where(WorkOrder.company_id == user.company_id)
    if not user.sees_whole_district:
        query = query.where(WorkOrder.case_id.in_(
            select(Case.id).where(Case.zone_id.in_(user.zone_ids))))
    return query


def get_visible_workorder(user: User, workorder_id: int, *, for_update: bool = False) -> WorkOrder:
    return one_or_404(visible_workorders(user).where(WorkOrder.id == workorder_id),
                      "No such work order.", lock=WorkOrder if for_update else None)


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
        query = query.where(overdue_filter(WorkOrder.due_at,
                                           WorkOrder.state.in_(DEADLINE_STATES),
                                           args.overdue, clock.now()))
    # A page shows each order's case, compound and company: load them per page, not per row.
    return (query.options(selectinload(WorkOrder.company),
                          selectinload(WorkOrder.case).selectinload(Case.compound))
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()))


def allowed_triggers(order: WorkOrder, user: User) -> list[str]:
    if not policies.can_see(user, order):
        return []
    return lifecycle.LIFECYCLE.allowed(order.state, user.role)
