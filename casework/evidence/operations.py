"""Adding evidence to a case."""
from __future__ import annotations

from flask import request
from werkzeug.datastructures import FileStorage

from casework.accounts.models import User
from casework.cases.history import record_event
from casework.cases.models import Case
from casework.common.errors import ApiError, BadRequest, ValidationFailed, problem
from casework.evidence import storage
from casework.evidence.models import Attachment, AttachmentKind
from casework.extensions import db


def _require_multipart_body() -> None:
    """415 for another media type, 400 for a multipart body that cannot be read (no boundary,
    cut off in transit): both would otherwise look like an upload with no fields."""
    if request.mimetype != "multipart/form-data":
        if not (request.content_length or request.get_data(cache=True)):
            raise BadRequest("A multipart/form-data body with 'file' and 'kind' is required.")
        raise ApiError("Send the upload as multipart/form-data with 'file' and 'kind'.",
                       status=415, code="unsupported_media_type")
    if not request.mimetype_params.get("boundary"):
        raise BadRequest("The multipart/form-data Content-Type has no boundary.")
    # werkzeug drops a body it cannot parse and shows empty fields instead.
    if request.content_length and not request.form and not request.files:
        raise BadRequest("The body could not be read as multipart/form-data (cut off?).")


def read_upload(upload: FileStorage | None, kind: str | None
                ) -> tuple[bytes, str, AttachmentKind, str]:
    """Checks an uploaded file and its kind: 422 for missing or wrong fields, 415 for a type
    outside the allow-list (judged from the bytes). The request must be readable multipart
    first (400/415), whichever endpoint it came to."""
    _require_multipart_body()
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


def attach(case: Case, user: User, data: bytes, content_type: str,
           attachment_kind: AttachmentKind, filename: str = "", *,
           workorder_id: int | None = None) -> Attachment:
    """Stores checked bytes (see ``read_upload``) on a case, or on one of its work orders, and
    records them in the case's history. The caller holds the case's row lock."""
    digest = storage.store(data)
    attachment = Attachment(case_id=case.id, workorder_id=workorder_id, kind=attachment_kind,
                            content_type=content_type, size=len(data), sha256=digest,
                            filename=filename, uploaded_by_id=user.id)
    db.session.add(attachment)
    db.session.flush()
    data_recorded = {"attachment_id": attachment.id, "kind": attachment_kind.value,
                     "sha256": digest, "size": len(data)}
    if workorder_id is not None:
        data_recorded["workorder_id"] = workorder_id
    record_event(case, "attach", case.state.value, user, data=data_recorded)
    return attachment
