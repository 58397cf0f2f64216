"""``POST /api/v1/imports``: load a survey file (multipart ``file``, ``skip_invalid``,
``dry_run``)."""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, request

from casework.accounts.auth import current_user
from casework.common.errors import ApiError, BadRequest, Forbidden, ValidationFailed, problem
from casework.common.idempotency import idempotent
from casework.common.requests import validate
from casework.imports.operations import can_import, import_survey
from casework.imports.reading import SurveyFile
from casework.imports.schemas import ImportForm, ImportResult

bp = Blueprint("imports", __name__)
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}


def _flag(name: str) -> bool | str:
    value = request.form.get(name)
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return value  # refused by the schema with the field's name


@bp.post("/imports")
@idempotent
def import_file():
    user = current_user()
    if not can_import(user):
        raise Forbidden("Only officers, supervisors and admins import surveys.")
    if request.mimetype != "multipart/form-data":
        raise ApiError("Send the survey as multipart/form-data with a 'file' field.",
                       status=415, code="unsupported_media_type")
    if request.content_length and not request.form and not request.files:
        raise BadRequest("The body could not be read as multipart/form-data (cut off?).")
    unknown = sorted(set(request.form) - {"skip_invalid", "dry_run"})
    form = validate(ImportForm, {"skip_invalid": _flag("skip_invalid"),
                                 "dry_run": _flag("dry_run"),
                                 **{name: request.form[name] for name in unknown}})
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed("The upload is incomplete.",
                               [problem("file", "required", "Attach the survey as 'file'.")])
    survey = SurveyFile(upload.read(), upload.filename or "")
    outcome = import_survey(user, survey, skip_invalid=form.skip_invalid, dry_run=form.dry_run)
    return ImportResult(**asdict(outcome)).model_dump(mode="json")
