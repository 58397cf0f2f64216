"""Adding evidence to a case or to one of its work orders.

A view hands over the upload as it came (``Upload``); the operation decides, in the order the
API promises: may this user add files here (404 for what they may not see, 403), may the
record take files now (409), is the body a readable upload (400/415), are its fields right
(422), is the file a photo or PDF (415), is the kind allowed here (422). Only then is
anything stored, and the case's history records it in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from werkzeug.datastructures import FileStorage

from casework import clock
from casework.accounts.models import User
from casework.cases import policies as case_policies
from casework.cases.history import record_event
from casework.cases.models import Case
from casework.cases.queries import lock_case
from casework.common.errors import ApiError, Conflict, NotFound, ValidationFailed, problem
from casework.common.policy import require
from casework.evidence import policies, storage
from casework.evidence.models import Attachment, AttachmentKind
from casework.extensions import db
from casework.workorders import policies as workorder_policies
from casework.workorders.models import WorkOrder

CASE_REFUSAL = "Only officers and supervisors add evidence to a case."
WORKORDER_REFUSAL = "Only the company and officers or supervisors add photos."


@dataclass(frozen=True)
class Upload:
    """An upload as the request carried it: the file part, the kind field, and, when the body
    could not be read as multipart at all, why not (raised once the user may upload)."""

    file: FileStorage | None
    kind: str | None
    unreadable: ApiError | None = None
    taken_at: str | None = None


def read_upload(upload: FileStorage | None, kind: str | None
                ) -> tuple[bytes, str, AttachmentKind, str]:
    """Checks an uploaded file and its kind: 422 for missing or wrong fields, 415 for a type
    outside the allow-list (judged from the bytes)."""
    problems = []
    if upload is None:
        problems.append(problem("file", "required", "Attach the file as 'file'."))
    kinds = [k.value for k in AttachmentKind]
    if kind not in kinds:
        problems.append(problem("kind", "enum", "One of: " + ", ".join(kinds)))
    if problems:
        raise ValidationFailed("The upload is incomplete.", problems)
    data = upload.read()
    if not data:
        raise ValidationFailed("The file is empty.",
                               [problem("file", "not_empty", "The file is empty.")])
    content_type = storage.sniff_content_type(data)
    if content_type not in storage.ALLOWED_TYPES:
        raise ApiError("Only JPEG, PNG, WebP, HEIC photos and PDF documents are accepted.",
                       {"detected": content_type, "allowed": sorted(storage.ALLOWED_TYPES)},
                       status=415, code="unsupported_media_type")
    return data, content_type, AttachmentKind(kind), storage.clean_filename(upload.filename or "")


def _read(upload: Upload) -> tuple[bytes, str, AttachmentKind, str]:
    if upload.unreadable is not None:
        raise upload.unreadable
    return read_upload(upload.file, upload.kind)


def taken_at_of(raw: str | None) -> datetime | None:
    """The capture time sent with a photo: an ISO 8601 time with its offset, not in the
    future (a phone's clock may run a few minutes ahead)."""
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed("taken_at is not a time.", [problem(
            "taken_at", "datetime", "An ISO 8601 time with its offset, e.g. "
                                    "2026-11-26T09:30:00+08:00.")])
    if moment > clock.now() + timedelta(minutes=10):
        raise ValidationFailed("taken_at is in the future.", [problem(
            "taken_at", "not_in_future", "The photo cannot have been taken in the future.")])
    return moment.astimezone(timezone.utc)


def _check_case(user: User, case: Case) -> None:
    if not case_policies.can_see(user, case):
        raise NotFound("No such case.")
    require(policies.can_add_to_case(user, case), CASE_REFUSAL)


def _check_workorder(user: User, order: WorkOrder) -> None:
    if not workorder_policies.can_see(user, order):
        raise NotFound("No such work order.")
    require(policies.can_add_to_workorder(user, order), WORKORDER_REFUSAL)
    if order.state.is_final:
        raise Conflict(f"The work order is {order.state.value}; it takes no more files.",
                       code="workorder_finished")


def _check_workorder_kind(kind: AttachmentKind) -> None:
    if kind not in policies.WORKORDER_KINDS:
        raise ValidationFailed("A work order takes photos of the work (before_photo, "
                               "after_photo) or other files.",
                               [problem("kind", "workorder_kinds",
                                        "One of: " + ", ".join(k.value
                                                               for k in policies.WORKORDER_KINDS))])


def add_to_case(case: Case, user: User, upload: Upload) -> Attachment:
    """An upload to a case the caller holds locked (``get_visible_case(..., for_update=True)``)."""
    _check_case(user, case)
    data, content_type, kind, filename = _read(upload)
    return attach(case, user, data, content_type, kind, filename,
                  taken_at=taken_at_of(upload.taken_at))


def add_to_workorder(order: WorkOrder, user: User, upload: Upload) -> Attachment:
    """An upload to a work order the caller holds locked (``get_visible_workorder(...,
    for_update=True)``); the case is locked here, for its history."""
    _check_workorder(user, order)
    data, content_type, kind, filename = _read(upload)
    _check_workorder_kind(kind)
    taken_at = taken_at_of(upload.taken_at)
    case = lock_case(order.case_id)
    return attach(case, user, data, content_type, kind, filename, workorder_id=order.id,
                  taken_at=taken_at)


def attach(case: Case, user: User, data: bytes, content_type: str,
           attachment_kind: AttachmentKind, filename: str = "", *,
           workorder_id: int | None = None, taken_at: datetime | None = None) -> Attachment:
    """Stores checked bytes (see ``read_upload``) on a case, or on one of its work orders, and
    records them in the case's history. The caller holds the case's row lock. Refuses what
    the API refuses: a user who may not add files there, a finished work order, a kind a work
    order does not take."""
    if workorder_id is None:
        _check_case(user, case)
    else:
        order = db.session.get(WorkOrder, workorder_id)
        if order is None or order.case_id != case.id:
            raise NotFound("No such work order.")
        _check_workorder(user, order)
        _check_workorder_kind(attachment_kind)
    digest = storage.store(data)
    attachment = Attachment(case_id=case.id, workorder_id=workorder_id, kind=attachment_kind,
                            content_type=content_type, size=len(data), sha256=digest,
                            filename=filename, uploaded_by_id=user.id, taken_at=taken_at)
    db.session.add(attachment)
    db.session.flush()
    data_recorded = {"attachment_id": attachment.id, "kind": attachment_kind.value,
                     "sha256": digest, "size": len(data)}
    if workorder_id is not None:
        data_recorded["workorder_id"] = workorder_id
    record_event(case, "attach", case.state.value, user, data=data_recorded)
    return attachment
