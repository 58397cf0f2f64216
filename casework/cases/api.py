"""``/api/v1/cases``: create, list, read, edit, fire triggers, read the history."""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select

from casework.accounts.auth import current_user
from casework.cases import lifecycle, operations
from casework.cases.models import Case, CaseEvent
from casework.cases.queries import allowed_triggers, filtered_cases, get_visible_case
from casework.cases.schemas import (READ_ONLY_FIELDS, CaseCreate, CasePatch, CaseQuery,
                                    TransitionRequest, case_dict, event_dict)
from casework.common.errors import Forbidden, ValidationFailed, problem
from casework.common.idempotency import idempotent
from casework.common.paging import paginate
from casework.common.requests import json_object, query_args, validate
from casework.accounts.models import Role
from casework.exports import api as exports
from casework.extensions import db

bp = Blueprint("cases", __name__)


def _case_response(case: Case) -> dict:
    user = current_user()
    return case_dict(case, user, allowed_triggers(case, user))


@bp.post("/cases")
@idempotent
def create_case():
    body = validate(CaseCreate, json_object())
    case = operations.create_case(current_user(), body.model_dump(exclude_unset=True))
    return _case_response(case), 201


@bp.get("/cases")
def list_cases():
    user = current_user()
    if user.role is Role.COMPANY:
        raise Forbidden("Company users see work orders, not cases.")
    if "format" in request.args:
        return exports.cases_file(user)
    args = query_args(CaseQuery)
    return paginate(filtered_cases(user, args), args.page, args.per_page,
                    lambda case: case_dict(case, user, allowed_triggers(case, user)))


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):
    return _case_response(get_visible_case(current_user(), case_id))


@bp.patch("/cases/<int:case_id>")
@idempotent
def edit_case(case_id: int):
    user = current_user()
    data = json_object()
    read_only = sorted(READ_ONLY_FIELDS.intersection(data))
    if read_only:
        raise ValidationFailed("Some fields cannot be changed here.",
                               [problem(name, "read_only",
                                        "Read-only; state changes go through /transitions.")
                                for name in read_only])
    body = validate(CasePatch, data)
    case = get_visible_case(user, case_id, for_update=True)
    changes = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    for required in ("kind", "compound_id", "difficulty", "owner_unknown", "address",
                     "description"):
        if required in changes and changes[required] is None:
            raise ValidationFailed("A required field cannot be emptied.",
                                   [problem(required, "not_null", "This field cannot be null.")])
    operations.edit_case(case, user, body.expected_version, changes)
    return _case_response(case)


@bp.post("/cases/<int:case_id>/transitions")
@idempotent
def fire_transition(case_id: int):
    body = validate(TransitionRequest, json_object())
    user = current_user()
    case = get_visible_case(user, case_id, for_update=True)
    operations.fire_trigger(case, user, body.trigger, expected_version=body.expected_version,
                            note=body.note, deadline=body.deadline, method=body.method)
    return _case_response(case)


@bp.get("/cases/<int:case_id>/events")
def list_events(case_id: int):
    case = get_visible_case(current_user(), case_id)
    if "format" in request.args:
        return exports.events_file(current_user(), case)
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                .order_by(CaseEvent.seq))
    return {"items": [event_dict(e) for e in events]}


@bp.get("/workflow")
def workflow():
    from flask import current_app

    from casework.common import lifecycle as common
    from casework.workorders import lifecycle as workorder_lifecycle
    from casework.workorders.models import WorkOrderState

    document = lifecycle.workflow_document(current_app.config)
    document["workorders"] = {
        "states": [{"name": s.value, "title": s.title, "final": s.is_finished}
                   for s in WorkOrderState],
        "initial": {"state": workorder_lifecycle.INITIAL_STATE.value},
        "triggers": common.triggers_document(workorder_lifecycle.TRIGGERS, current_app.config),
    }
    return document


@bp.get("/workflow/diagram.mmd")
def workflow_diagram():
    return lifecycle.mermaid_diagram(), 200, {"Content-Type": "text/plain; charset=utf-8"}
