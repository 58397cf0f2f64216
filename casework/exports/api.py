"""Exports as downloads (``?format=csv|xlsx`` on the lists) and ``GET /api/v1/exports``, the
export log for admins."""
from __future__ import annotations

from flask import Blueprint, Response, stream_with_context

from casework.accounts.models import User
from casework.cases.models import Case
from casework.common.paging import paginate
from casework.common.requests import current_user, query_args
from casework.exports import operations, queries
from casework.exports.schemas import (CaseExportQuery, EventExportQuery, ExportLogEntry,
                                      ExportLogPage, ExportLogQuery, WorkOrderExportQuery)

bp = Blueprint("exports", __name__)


def send_export(export: operations.Export) -> Response:
    """The export streamed as a download. The request's one commit (of the export's log
    entry) happens before the first byte is produced: the generator runs after the view."""
    response = Response(stream_with_context(export.chunks), mimetype=export.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["X-Export-Rows"] = str(export.rows)
    response.headers["Cache-Control"] = "no-store"
    return response


def cases_file(user: User) -> Response:
    args = query_args(CaseExportQuery)
    return send_export(operations.export_cases(user, args, args.format, args.lang))


def workorders_file(user: User) -> Response:
    args = query_args(WorkOrderExportQuery)
    return send_export(operations.export_workorders(user, args, args.format, args.lang))


def events_file(user: User, case: Case) -> Response:
    args = query_args(EventExportQuery)
    return send_export(operations.export_events(user, case, args.format, args.lang))


@bp.get("/exports")
def export_log():
    args = query_args(ExportLogQuery)
    query = queries.export_log(current_user(), personal_data=args.personal_data, kind=args.kind,
                               user_id=args.user)
    page = paginate(query, args.page, args.per_page,
                    lambda entry: ExportLogEntry.model_validate(entry, from_attributes=True))
    return ExportLogPage(**page).model_dump(mode="json")
