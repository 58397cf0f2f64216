"""Everything that changes a work order. Each step is also written into its case's history,
so the case's hash chain shows what the company did and when."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from casework import clock
from casework.accounts.models import Company, User
from casework.cases.history import record_event
from casework.cases.models import Case
from casework.cases.queries import lock_case
from casework.common.errors import Conflict, NotFound, ValidationFailed, problem
from casework.common.lifecycle import Firing, Notify, Trigger, fire
from casework.common.policy import require
from casework.extensions import db
from casework.notifications.models import NotificationKind
from casework.notifications.operations import notify_company, notify_users
from casework.settings import setting
from casework.workorders import lifecycle, policies
from casework.workorders.models import (WorkOrder, WorkOrderKind, WorkOrderState,
                                        workorder_payload)
from casework.workorders.queries import allowed_triggers, visible_workorders



def _context(order: WorkOrder, actor: User, note: str) -> dict:
    case = order.case
    return {"workorder": {"id": order.id}, "workorder_kind": order.kind.value,
            "workorder_kind_title": order.kind.title, "case": {"ref": case.ref,
                                                               "address": case.address},
            "compound": case.compound.name, "company": order.company.name,
            "due_at": order.due_at.astimezone(clock.local_zone()).strftime("%Y-%m-%d %H:%M")
            if order.due_at else "-", "note": note, "actor": actor.display_name}


def create_workorder(case: Case, user: User, company_id: int, kind: WorkOrderKind,
                     due_date: date, note: str = "") -> WorkOrder:
    require(policies.can_issue(user), "Only officers and supervisors issue work orders.")
    if not user.can_see_zone(case.zone_id):
        raise NotFound("No such case.")
    if case.state.is_final:
        raise Conflict(f"A {case.state.value} case takes no new work orders.", code="case_final")
    problems = []
    company = db.session.get(Company, company_id)
    if company is None:
        problems.append(problem("company_id", "exists", "No such company."))
    today = clock.local_today()
    limit = setting("CASEWORK_MAX_DEADLINE_DAYS")
    if due_date < today:
        problems.append(problem("due_date", "not_past", "The due date cannot be in the past."))
    elif due_date > today + timedelta(days=limit):
        problems.append(problem("due_date", "within_limit",
                                 f"The due date may be at most {limit} days away."))
    if problems:
        raise ValidationFailed("The work order cannot be issued.", problems)
    order = WorkOrder(case_id=case.id, zone_id=case.zone_id, company_id=company.id,
                      kind=kind, state=lifecycle.INITIAL_STATE,
                      due_at=clock.end_of_local_day(due_date), note=note, created_by_id=user.id)
    db.session.add(order)
    db.session.flush()
    record_event(case, "workorder_create", case.state.value, user, note=note,
                 data={"workorder_id": order.id, "company_id": company.id, "kind": kind.value,
                       "due_at": order.due_at.isoformat()})
    notify_company(company, NotificationKind.WORKORDER_ASSIGNED, _context(order, user, note),
                   {"event": "workorder_assigned", **workorder_payload(order)},
                   case_id=case.id, workorder_id=order.id)
    return order


def _photos(order: WorkOrder) -> int:
    # Read afresh: photos are added by another operation, maybe in this session.
    db.session.expire(order, ["attachments"])
    return sum(1 for attachment in order.attachments if attachment.is_photo)


def workorder_to_fire(user: User, workorder_id: int) -> tuple[WorkOrder, int]:
    """The work order and its case locked for a step (the step goes into the case's history),
    with what the step reads (the case's compound and officer, the company, who issued the
    order, the number of the order's photos): one statement."""
    attachment = WorkOrder.attachments.property.mapper.class_
    photos = (select(func.count()).where(attachment.workorder_id == WorkOrder.id,
                                         attachment.content_type.startswith("image/"))
              .correlate(WorkOrder).scalar_subquery())
    row = db.session.execute(
        visible_workorders(user).where(WorkOrder.id == workorder_id)
        .join(WorkOrder.case).add_columns(photos)
        .options(contains_eager(WorkOrder.case).joinedload(Case.compound),
                 contains_eager(WorkOrder.case).joinedload(Case.officer),
                 joinedload(WorkOrder.company), joinedload(WorkOrder.created_by))
        .with_for_update(of=[WorkOrder, Case])
        .execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("No such work order.")
    return row[0], row[1]


def fire_trigger(order: WorkOrder, user: User, trigger_name: str, *, expected_version: int,
                 note: str = "", photos: int | None = None) -> WorkOrder:
    """Fires a lifecycle trigger on a work order the caller holds locked: with its case and
    its ``photos`` counted (``workorder_to_fire``), or alone (``get_visible_workorder(...,
    for_update=True)``, and the case is locked when the step is written into its history)."""
    if not policies.can_see(user, order):
        raise NotFound("No such work order.")
    case_held = photos is not None

    def check(trigger: Trigger) -> None:
        if order.case.state.is_final and trigger.name != "cancel":
            raise Conflict(f"The case is {order.case.state.value}; its work orders can only be "
                           "cancelled.", code="case_final")

    def record_history(trigger: Trigger, from_state: WorkOrderState, given) -> None:
        case = order.case if case_held else lock_case(order.case_id)
        record_event(case, f"workorder_{trigger.name}", case.state.value, user, note=note,
                     data={"workorder_id": order.id, "from": from_state.value,
                           "to": order.state.value})

    def notify(trigger: Trigger, recipients: tuple[Notify, ...],
               from_state: WorkOrderState) -> None:
        _notify(order, trigger, user, recipients, note, from_state)

    fire(lifecycle.LIFECYCLE, order, user, trigger_name, expected_version=expected_version,
         firing=Firing(allowed=lambda: allowed_triggers(order, user), check=check,
                       guard_input=lambda trigger: lifecycle.WorkOrderGuardInput(
                           photos=_photos(order) if photos is None else photos,
                           note=note or "", now=clock.now()),
                       record_history=record_history, notify=notify))
    return order


def _notify(order: WorkOrder, trigger: Trigger, actor: User, recipients: tuple[Notify, ...],
            note: str, from_state: WorkOrderState) -> None:
    context = {**_context(order, actor, note), "trigger": f"workorder_{trigger.name}",
               "trigger_title": f"工单{trigger.title}", "from_state": from_state.value,
               "to_state": order.state.value, "from_title": from_state.title,
               "to_title": order.state.title, "due_at": None}
    if Notify.company in recipients:
        notify_company(order.company, NotificationKind.TRANSITION, context,
                       {"event": f"workorder_{trigger.name}", **workorder_payload(order)},
                       case_id=order.case_id, workorder_id=order.id)
    if Notify.officer in recipients:
        users = [u for u in (order.case.officer, order.created_by)
                 if u is not None and u.id != actor.id]
        notify_users(users, NotificationKind.TRANSITION, context, case_id=order.case_id,
                     workorder_id=order.id)
