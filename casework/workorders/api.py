"""``/api/v1/workorders`` and ``/api/v1/cases/<id>/workorders`` (their files: ``evidence.api``)."""
from __future__ import annotations

from flask import Blueprint, request

from casework.accounts.auth import current_user
from casework.cases.queries import get_visible_case
from casework.common.idempotency import idempotent
from casework.common.paging import list_page
from casework.common.requests import json_body, query_args
from casework.exports import api as exports
from casework.workorders import operations
from casework.workorders.queries import (WORKORDER_ORDER, allowed_triggers, filtered_workorders,
                                         get_visible_workorder)
from casework.workorders.schemas import (WorkOrderCreate, WorkOrderQuery, WorkOrderTransition,
                                         workorder_dict)

bp = Blueprint("workorders", __name__)


def _response(order) -> dict:
    return workorder_dict(order, allowed_triggers(order, current_user()))


@bp.get("/workorders")
def list_workorders():
    user = current_user()
    if "format" in request.args:
        return exports.workorders_file(user)
    args = query_args(WorkOrderQuery)
    return list_page(filtered_workorders(user, args), WORKORDER_ORDER, page=args.page,
                     after=args.after, per_page=args.per_page,
                     serialize=lambda order: workorder_dict(order, allowed_triggers(order, user)))


@bp.post("/cases/<int:case_id>/workorders")
@idempotent
def create_workorder(case_id: int):
    body = json_body(WorkOrderCreate)
    user = current_user()
    case = get_visible_case(user, case_id, for_update=True)
    order = operations.create_workorder(case, user, body.company_id, body.kind, body.due_date,
                                        body.note)
    return _response(order), 201


@bp.get("/workorders/<int:workorder_id>")
def get_workorder(workorder_id: int):
    return _response(get_visible_workorder(current_user(), workorder_id))


@bp.post("/workorders/<int:workorder_id>/transitions")
@idempotent
def fire_transition(workorder_id: int):
    body = json_body(WorkOrderTransition)
    user = current_user()
    order, photos = operations.workorder_to_fire(user, workorder_id)
    operations.fire_trigger(order, user, body.trigger, expected_version=body.expected_version,
                            note=body.note, photos=photos)
    return _response(order)
