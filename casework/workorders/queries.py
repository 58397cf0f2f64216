"""Which work orders a user may see: a company only its own, officers and supervisors those
of their zones' cases (spec sections 4 and 8)."""
from __future__ import annotations

from sqlalchemy import Select, case, select
from sqlalchemy.orm import selectinload

from casework import clock
from casework.accounts.models import Role, User
from casework.cases.models import Case, CaseEvent
from casework.common.paging import Keyset
from casework.common.queries import one_or_404, overdue_filter
from casework.extensions import db
from casework.workorders import lifecycle, policies
from casework.workorders.models import DEADLINE_STATES, WorkOrder, WorkOrderState
from casework.workorders.schemas import WorkOrderQuery

LATE_STATES = DEADLINE_STATES  # the name callers used before the states moved to the model
# The work-order list's order, newest first; its cursors hold (created_at, id).
WORKORDER_ORDER = Keyset("workorders", (WorkOrder.created_at, WorkOrder.id))

def visible_workorders(user: User) -> Select:
    query = select(WorkOrder)
    if user.role is Role.COMPANY:
        return query.where(WorkOrder.company_id == user.company_id)
    if not user.sees_whole_district:
        query = query.where(WorkOrder.zone_id.in_(user.zone_ids))
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
            .order_by(*WORKORDER_ORDER.order_by()))


def open_first(query: Select) -> Select:
    """The order of a worklist: work still owed (soonest due, so the overdue first), then work
    awaiting verification, then finished work, newest first."""
    rank = case((WorkOrder.state.in_(DEADLINE_STATES), 0),
                (WorkOrder.state == WorkOrderState.COMPLETED, 1), else_=2)
    return query.order_by(None).order_by(rank, WorkOrder.due_at.asc().nulls_last(),
                                         WorkOrder.created_at.desc(), WorkOrder.id.desc())


def case_workorders(user: User, case_id: int) -> list[WorkOrder]:
    """A case's work orders that ``user`` sees, open first."""
    query = open_first(visible_workorders(user).where(WorkOrder.case_id == case_id)
                       .options(selectinload(WorkOrder.company)))
    return list(db.session.scalars(query))


def workorder_events(order: WorkOrder) -> list[CaseEvent]:
    """The steps of one work order, from its case's history (oldest first): its own triggers
    and the files added to it, never the rest of the case's history."""
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == order.case_id)
                                .order_by(CaseEvent.seq))
    return [event for event in events
            if (event.trigger.startswith("workorder_") or event.trigger == "attach")
            and (event.data or {}).get("workorder_id") == order.id]


def allowed_triggers(order: WorkOrder, user: User) -> list[str]:
    if not policies.can_see(user, order):
        return []
    return lifecycle.LIFECYCLE.allowed(order.state, user.role)
