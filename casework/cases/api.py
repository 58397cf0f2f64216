"""``/api/v1/cases``: create, list, read, edit, fire triggers, read the history.

The lifecycle itself is served by ``casework.workflow``."""
from __future__ import annotations

from flask import Blueprint, request

from casework.accounts.auth import current_user
from casework.cases import operations
from casework.cases.models import Case
from casework.cases.queries import (CASE_ORDER, EVENT_ORDER, allowed_triggers, filtered_cases,
                                    get_visible_case, history_of)
from casework.cases.schemas import (READ_ONLY_FIELDS, CaseCreate, CasePatch, CaseQuery,
                                    EventQuery, TransitionRequest, case_dict, event_dict)
from casework.common.errors import ValidationFailed, problem
from casework.common.idempotency import idempotent
from casework.common.paging import list_page, rows_after
from casework.common.requests import json_object, query_args, validate
from casework.exports import api as exports

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
    if "format" in request.args:
        return exports.cases_file(user)
    args = query_args(CaseQuery)
    return list_page(filtered_cases(user, args), CASE_ORDER, page=args.page, after=args.after,
                     per_page=args.per_page, searched=bool(args.q),
                     serialize=lambda case: case_dict(case, user, allowed_triggers(case, user)))


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
    case, facts = operations.case_to_fire(user, case_id)
    operations.fire_trigger(case, user, body.trigger, expected_version=body.expected_version,
                            note=body.note, deadline=body.deadline, method=body.method,
                            facts=facts)
    return _case_response(case)


@bp.get("/cases/<int:case_id>/events")
def list_events(case_id: int):
    case = get_visible_case(current_user(), case_id)
    if "format" in request.args:
        return exports.events_file(current_user(), case)
    args = query_args(EventQuery)
    query = history_of(case)
    if args.after is not None:
        query = query.where(EVENT_ORDER.after(args.after))
    return rows_after(query, EVENT_ORDER, args.per_page, event_dict)
