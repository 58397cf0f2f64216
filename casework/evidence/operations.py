"""Adding evidence to a case."""
from __future__ import annotations

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from casework.accounts.models import User
from casework.cases.history import record_event
from casework.cases.models import Case
from casework.common.errors import ApiError, ValidationFailed
from casework.evidence import storage
from casework.evidence.models import Attachment, AttachmentKind
from casework.extensions import db


def read_upload(upload: FileStorage | None, kind: str | None
                ) -> tuple[bytes, str, AttachmentKind, str]:
    """Checks an uploaded file and its kind: 422 for missing or wrong fields, 415 for a type
    outside the allow-list (judged from the bytes)."""
    problems = []
    if upload is None:
        problems.append({"field": "file", "rule": "required", "message": "Attach the file as 'file'."})
    kinds = [k.value for k in AttachmentKind]
    if kind not in kinds:
        problems.append({"field": "kind", "rule": "enum", "message": "One of: " + ", ".join(kinds)})
    if problems:
        raise ValidationFailed("The upload is incomplete.", problems)
    data = upload.read()
    if not data:
        raise ValidationFailed("The file is empty.",
                               [{"field": "file", "rule": "not_empty", "message": "The file is empty."}])
    content_type = storage.sniff_content_type(data)
    if content_type not in storage.ALLOWED_TYPES:
        raise ApiError("Only JPEG, PNG, WebP, HEIC photos and PDF documents are accepted.",
                       {"detected": content_type, "allowed": sorted(storage.ALLOWED_TYPES)},
                       status=415, code="unsupported_media_type")
    return data, content_type, AttachmentKind(kind), secure_filename(upload.filename or "")[:255]


def attach_to_case(case: Case, user: User, data: bytes, content_type: str,
                   attachment_kind: AttachmentKind, filename: str = "") -> Attachment:
    """Stores checked bytes (see ``read_upload``) and records them in the case's history."""
    digest = storage.store(data)
    attachment = Attachment(case_id=case.id, kind=attachment_kind, content_type=content_type,
                            size=len(data), sha256=digest, filename=filename,
                            uploaded_by_id=user.id)
    db.session.add(attachment)
    db.session.flush()
    record_event(case, "attach", case.state.value, user,
                 data={"attachment_id": attachment.id, "kind": attachment_kind.value,
                       "sha256": digest, "size": len(data)})
    return attachment
