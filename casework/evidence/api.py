"""``/api/v1/cases/<id>/attachments``: upload, list and download evidence."""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select

from casework.accounts.auth import current_user
from casework.cases.queries import get_visible_case
from casework.common.errors import Forbidden, NotFound
from casework.common.idempotency import idempotent
from casework.evidence import operations, storage
from casework.evidence.models import Attachment
from casework.extensions import db

bp = Blueprint("evidence", __name__)


@bp.post("/cases/<int:case_id>/attachments")
@idempotent
def upload(case_id: int):
    user = current_user()
    case = get_visible_case(user, case_id, for_update=True)
    if not user.works_cases:
        raise Forbidden("Only officers and supervisors add evidence to a case.")
    data, content_type, kind, filename = operations.read_upload(request.files.get("file"),
                                                                request.form.get("kind"))
    attachment = operations.attach(case, user, data, content_type, kind, filename)
    return attachment.to_dict(user), 201


@bp.get("/cases/<int:case_id>/attachments")
def list_attachments(case_id: int):
    user = current_user()
    case = get_visible_case(user, case_id)
    rows = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                              .order_by(Attachment.id))
    return {"items": [a.to_dict(user) for a in rows]}


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
def download(case_id: int, attachment_id: int):
    user = current_user()
    case = get_visible_case(user, case_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise NotFound("No such attachment.")
    return storage.send(attachment, attachment.name_for(user))
