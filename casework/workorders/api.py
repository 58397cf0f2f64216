"""``/api/v1/workorders`` and ``/api/v1/cases/<id>/workorders``."""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import or_, select

from casework.accounts.auth import current_user
from casework.accounts.models import Role
from casework.cases.queries import get_visible_case, lock_case
from casework.common.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem
from casework.common.idempotency import idempotent
from casework.common.paging import paginate
from casework.common.requests import json_body, query_args
from casework.evidence import operations as evidence
from casework.evidence import storage
from casework.evidence.models import Attachment, AttachmentKind
from casework.exports import api as exports
from casework.extensions import db
from casework.workorders import operations
from casework.workorders.queries import allowed_triggers, filtered_workorders, get_visible_workorder
from casework.workorders.schemas import (WorkOrderCreate, WorkOrderQuery, WorkOrderTransition,
                                         workorder_dict)

bp = Blueprint("workorders", __name__)
CASE_PHOTO_KINDS = (AttachmentKind.BEFORE_PHOTO, AttachmentKind.AFTER_PHOTO)
# What a work order's files may be. Ownership documents, agreements and notices carry the
# owner's personal data: they belong on the case, which a company never sees.
WORKORDER_KINDS = CASE_PHOTO_KINDS + (AttachmentKind.OTHER,)


def _response(order) -> dict:
    return workorder_dict(order, allowed_triggers(order, current_user()))


@bp.get("/workorders")
def list_workorders():
    user = current_user()
    if "format" in request.args:
        return exports.workorders_file(user)
    args = query_args(WorkOrderQuery)
    return paginate(filtered_workorders(user, args), args.page, args.per_page,
                    lambda order: workorder_dict(order, allowed_triggers(order, user)))


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
    order = get_visible_workorder(user, workorder_id, for_update=True)
    operations.fire_trigger(order, user, body.trigger, expected_version=body.expected_version,
                            note=body.note)
    return _response(order)


def _visible_attachments(order):
    """The work order's own files and its case's before/after photos (what a company needs to
    find and finish the job; never ownership documents or agreements)."""
    return (select(Attachment).where(or_(
        (Attachment.workorder_id == order.id) & Attachment.kind.in_(WORKORDER_KINDS),
        (Attachment.case_id == order.case_id) & Attachment.workorder_id.is_(None)
        & Attachment.kind.in_(CASE_PHOTO_KINDS))).order_by(Attachment.id))


@bp.post("/workorders/<int:workorder_id>/attachments")
@idempotent
def upload(workorder_id: int):
    user = current_user()
    order = get_visible_workorder(user, workorder_id, for_update=True)
    if user.role not in (Role.COMPANY, Role.OFFICER, Role.SUPERVISOR):
        raise Forbidden("Only the company and officers or supervisors add photos.")
    if order.state.is_finished:
        raise Conflict(f"The work order is {order.state.value}; it takes no more files.",
                       code="workorder_finished")
    data, content_type, kind, filename = evidence.read_upload(request.files.get("file"),
                                                              request.form.get("kind"))
    if kind not in WORKORDER_KINDS:
        raise ValidationFailed("A work order takes photos of the work (before_photo, "
                               "after_photo) or other files.",
                               [problem("kind", "workorder_kinds",
                                        "One of: " + ", ".join(k.value for k in WORKORDER_KINDS))])
    case = lock_case(order.case_id)
    attachment = evidence.attach(case, user, data, content_type, kind, filename,
                                 workorder_id=order.id)
    return attachment.to_dict(user), 201


@bp.get("/workorders/<int:workorder_id>/attachments")
def list_attachments(workorder_id: int):
    user = current_user()
    order = get_visible_workorder(user, workorder_id)
    return {"items": [a.to_dict(user) for a in db.session.scalars(_visible_attachments(order))]}


@bp.get("/workorders/<int:workorder_id>/attachments/<int:attachment_id>")
def download(workorder_id: int, attachment_id: int):
    user = current_user()
    order = get_visible_workorder(user, workorder_id)
    attachment = db.session.scalar(_visible_attachments(order).where(Attachment.id == attachment_id))
    if attachment is None:
        raise NotFound("No such attachment.")
    return storage.send(attachment, attachment.name_for(user))
