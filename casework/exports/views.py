"""Export buttons' downloads for the list pages: ``/cases/export`` and ``/workorders/export``
take the list page's own filters (as its address has them) and a ``format``, and answer the
same file as the API's ``?format=`` on the lists, recorded in the export log alike.

The language of the file is the page's unless ``lang`` says otherwise; empty filters (a GET
form sends every field) are no filter."""
from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, request
from pydantic import BaseModel, ValidationError

from casework.common.errors import ValidationFailed
from casework.common.requests import validation_details
from casework.exports import operations
from casework.exports.api import send_export
from casework.exports.schemas import CaseExportQuery, WorkOrderExportQuery
from casework.web.pages import page_user, signed_in
from casework.web.templating import page_locale

bp = Blueprint("exports_pages", __name__, template_folder="templates")

M = TypeVar("M", bound=BaseModel)
# What shapes a page but not what it holds.
_NOT_FILTERS = {"page", "per_page", "after"}


def _args(schema: type[M]) -> M:
    args: dict = {}
    for key in request.args:
        values = [value for value in request.args.getlist(key) if value != ""]
        if key in _NOT_FILTERS or not values:
            continue
        args[key] = values if len(values) > 1 else values[0]
    args.setdefault("lang", page_locale())
    try:
        return schema.model_validate(args)
    except ValidationError as exc:
        raise ValidationFailed("The export's filters are not valid.",
                               validation_details(exc)) from None


@bp.get("/cases/export")
@signed_in
def cases():
    args = _args(CaseExportQuery)
    return send_export(operations.export_cases(page_user(), args, args.format, args.lang))


@bp.get("/workorders/export")
@signed_in
def workorders():
    args = _args(WorkOrderExportQuery)
    return send_export(operations.export_workorders(page_user(), args, args.format, args.lang))
