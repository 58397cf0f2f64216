"""Evidence files: ``/api/v1/cases/<id>/attachments`` and
``/api/v1/workorders/<id>/attachments`` (upload, list, download)."""
from __future__ import annotations

from flask import Blueprint, request

from casework.accounts.auth import current_user
from casework.cases.queries import get_visible_case
from casework.common.errors import ValidationFailed, problem
from casework.common.idempotency import idempotent
from casework.common.requests import multipart_unreadable
from casework.evidence import operations
from casework.evidence.downloads import send
from casework.evidence.queries import case_attachments, get_attachment, workorder_attachments
from casework.extensions import db
from casework.workorders.queries import get_visible_workorder

bp = Blueprint("evidence", __name__)


def _upload() -> operations.Upload:
    return operations.Upload(file=request.files.get("file"), kind=request.form.get("kind"),
                             unreadable=multipart_unreadable() or _unknown_fields(),
                             taken_at=request.form.get("taken_at"))


UPLOAD_FIELDS = {"file", "kind", "taken_at"}


def _unknown_fields() -> ValidationFailed | None:
    """An upload takes its three fields and no others, as a JSON body takes only its own."""
    unknown = sorted((set(request.form) | set(request.files)) - UPLOAD_FIELDS, key=str)
    if not unknown:
        return None
    return ValidationFailed("The upload has fields it does not take.",
                            [problem(name or None, "extra_forbidden",
                                     "Not a field of an upload: send file, kind and taken_at.")
                             for name in unknown])


@bp.post("/cases/<int:case_id>/attachments")
@idempotent
def upload(case_id: int):
    user = current_user()
    case = get_visible_case(user, case_id, for_update=True)
    return operations.add_to_case(case, user, _upload()).to_dict(user), 201


@bp.get("/cases/<int:case_id>/attachments")
def list_attachments(case_id: int):
    user = current_user()
    case = get_visible_case(user, case_id)
    return {"items": [a.to_dict(user) for a in db.session.scalars(case_attachments(case))]}


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
def download(case_id: int, attachment_id: int):
    user = current_user()
    case = get_visible_case(user, case_id)
    return send(get_attachment(case_attachments(case), attachment_id), user)


@bp.post("/workorders/<int:workorder_id>/attachments")
@idempotent
def upload_to_workorder(workorder_id: int):
    user = current_user()
    order = get_visible_workorder(user, workorder_id, for_update=True)
    return operations.add_to_workorder(order, user, _upload()).to_dict(user), 201


@bp.get("/workorders/<int:workorder_id>/attachments")
def list_workorder_attachments(workorder_id: int):
    user = current_user()
    order = get_visible_workorder(user, workorder_id)
    return {"items": [a.to_dict(user) for a in db.session.scalars(workorder_attachments(order))]}


@bp.get("/workorders/<int:workorder_id>/attachments/<int:attachment_id>")
def download_from_workorder(workorder_id: int, attachment_id: int):
    user = current_user()
    order = get_visible_workorder(user, workorder_id)
    return send(get_attachment(workorder_attachments(order), attachment_id), user)
