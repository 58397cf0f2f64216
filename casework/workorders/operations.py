"""Everything that changes a work order. Each step is also written into its case's history,
so the case's hash chain shows what the company did and when."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select

from casework import clock
from casework.accounts.models import Company, User
from casework.cases.history import record_event
from casework.cases.models import Case
from casework.cases.queries import lock_case
from casework.common.errors import Conflict, Forbidden, ValidationFailed, problem
from casework.common.lifecycle import failed_guards, trigger_to_fire
from casework.deadlines.operations import workorder_payload
from casework.evidence.models import Attachment
from casework.extensions import db
from casework.notifications.models import NotificationKind
from casework.notifications.operations import notify_company, notify_users
from casework.workorders import lifecycle
from casework.workorders.models import WorkOrder, WorkOrderKind



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
    if not user.works_cases:
        raise Forbidden("Only officers and supervisors issue work orders.")
    if case.state.is_final:
        raise Conflict(f"A {case.state.value} case takes no new work orders.", code="case_final")
    problems = []
    company = db.session.get(Company, company_id)
    if company is None:
        problems.append(problem("company_id", "exists", "No such company."))
    today = clock.local_today()
    limit = current_app.config["CASEWORK_MAX_DEADLINE_DAYS"]
    if due_date < today:
        problems.append(problem("due_date", "not_past", "The due date cannot be in the past."))
    elif due_date > today + timedelta(days=limit):
        problems.append(problem("due_date", "within_limit",
                                 f"The due date may be at most {limit} days away."))
    if problems:
        raise ValidationFailed("The work order cannot be issued.", problems)
    order = WorkOrder(case_id=case.id, company_id=company.id, kind=kind,
                      state=lifecycle.INITIAL_STATE, due_at=clock.end_of_local_day(due_date),
                      note=note, created_by_id=user.id)
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
    return db.session.scalar(select(func.count()).select_from(Attachment).where(
        Attachment.workorder_id == order.id, Attachment.content_type.like("image/%"))) or 0


def fire_trigger(order: WorkOrder, user: User, trigger_name: str, *, expected_version: int,
                 note: str = "") -> WorkOrder:
    from casework.workorders.queries import allowed_triggers

    trigger = trigger_to_fire(lifecycle.BY_NAME, trigger_name, order, user, expected_version,
                              lambda: allowed_triggers(order, user))
    if order.case.state.is_final and trigger.name != "cancel":
        raise Conflict(f"The case is {order.case.state.value}; its work orders can only be "
                       "cancelled.", code="case_final")
    given = lifecycle.WorkOrderGuardInput(photos=_photos(order), note=note or "", now=clock.now())
    failures = failed_guards(trigger, given)
    if failures:
        raise ValidationFailed(f"{trigger.name} cannot be done yet.", failures,
                               code="guard_failed")
    case = lock_case(order.case_id)
    from_state = order.state
    if not lifecycle.machine.events[trigger.name].trigger(order, guard_input=given):
        raise Conflict("The work order changed while the trigger was checked; try again.")
    if trigger.deadline is None:
        order.due_at = None
    elif trigger.deadline != "keep":
        order.due_at = given.now + timedelta(days=current_app.config[trigger.deadline])
    order.updated_at = given.now
    record_event(case, f"workorder_{trigger.name}", case.state.value, user, note=note,
                 data={"workorder_id": order.id, "from": from_state.value,
                       "to": order.state.value})
    _notify(order, trigger, user, note, from_state)
    return order


def _notify(order: WorkOrder, trigger, actor: User, note: str, from_state) -> None:
    context = {**_context(order, actor, note), "trigger": f"workorder_{trigger.name}",
               "trigger_title": f"工单{trigger.title}", "from_state": from_state.value,
               "to_state": order.state.value, "from_title": from_state.title,
               "to_title": order.state.title, "due_at": None}
    if "company" in trigger.notify:
        notify_company(order.company, NotificationKind.TRANSITION, context,
                       {"event": f"workorder_{trigger.name}", **workorder_payload(order)},
                       case_id=order.case_id, workorder_id=order.id)
    if "officer" in trigger.notify:
        recipients = [u for u in (order.case.officer, order.created_by)
                      if u is not None and u.id != actor.id]
        notify_users(recipients, NotificationKind.TRANSITION, context, case_id=order.case_id,
                     workorder_id=order.id)
