"""The survey import page (spec sections 13 and 14): upload a survey file, check it (dry run)
or import it, and see the cases created and every bad row with its line and problem in words.

The page calls ``import_survey``, the operation behind ``POST /api/v1/imports``, which decides
who may import and into which zones. The result is the answer to the upload itself, not a
redirect: sending the same file again creates nothing more, because a row whose survey
reference is already a case's is not imported twice."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, render_template, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casework.common.errors import ApiError, ValidationFailed
from casework.common.idempotency import idempotent
from casework.extensions import db
from casework.imports.forms import ImportForm
from casework.imports.operations import can_import, import_survey
from casework.imports.reading import FIELDS, REQUIRED, SurveyFile
from casework.web.pages import form_failed, not_found, page_user, signed_in

bp = Blueprint("imports_pages", __name__, template_folder="templates")

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "survey.csv"

# A bad row's problem in words, by field and rule, then by rule.
_BY_FIELD = {
    ("zone", "required"): _l("The zone is missing."),
    ("compound", "required"): _l("The compound is missing."),
    ("kind", "required"): _l("The kind is missing."),
    ("kind", "enum"): _l("The kind must be 违建 or 配建棚厦 (illegal_structure, shed)."),
    ("survey_ref", "required"): _l("The survey reference is missing: it keeps a second "
                                   "import from creating the case twice."),
    ("difficulty", "less_than_equal"): _l("The difficulty is a whole number from 1 to 5."),
    ("difficulty", "greater_than_equal"): _l("The difficulty is a whole number from 1 to 5."),
    ("difficulty", "int_parsing"): _l("The difficulty is a whole number from 1 to 5."),
    ("area_m2", "float_parsing"): _l("The area is a number of square metres."),
    ("area_m2", "greater_than_equal"): _l("The area cannot be negative."),
    ("area_m2", "less_than_equal"): _l("The area is too large."),
    ("owner_phone", "string_pattern_mismatch"): _l("This is not a phone number."),
    ("owner_id_number", "string_pattern_mismatch"):
        _l("An id number has only digits, letters and -."),
}
_BY_RULE = {
    "unknown_zone": _l("No such zone among the zones you work in (give its code or name)."),
    "too_long": _l("This is too long."),
    "string_too_long": _l("This is too long."),
    "stored_as_number": _l("The id number is stored as a number and the spreadsheet has "
                           "rounded it; format the column as text and type it again."),
    "not_empty": _l("The file is empty."),
    "encoding": _l("Save the CSV as UTF-8 or GB18030 (GBK)."),
    "csv": _l("The CSV cannot be read."),
    "xlsx": _l("The XLSX file cannot be read."),
    "unknown_column": _l("Not a survey column."),
    "duplicate_column": _l("Another column already gives this field."),
    "missing_column": _l("The file needs this column."),
}
_SAME_REF = re.compile(r"Line (\d+) has the same survey reference")


def in_words(detail: dict[str, Any]) -> str:
    """One problem of a row (or of the file) in the page's language; one this page does not
    know keeps the operation's own words."""
    field, rule, message = detail.get("field"), detail.get("rule"), detail.get("message", "")
    if rule == "duplicate":
        same = _SAME_REF.search(message or "")
        if same:
            return _("Line %(line)s has the same survey reference.", line=same.group(1))
    text = _BY_FIELD.get((field, rule)) or _BY_RULE.get(rule)
    return str(text) if text is not None else str(message)


def _columns() -> list[tuple[str, str, bool]]:
    return [(zh, en, key in REQUIRED) for key, (zh, en) in FIELDS.items()]


def _importer():
    """Who may import is the operation's rule; anyone else gets the 404 page."""
    user = page_user()
    if not can_import(user):
        not_found()
    return user


@bp.get("/imports")
@signed_in
def index():
    _importer()
    return render_template("imports/index.html", form=ImportForm(formdata=None),
                           columns=_columns(), outcome=None, problems=[])


@bp.get("/imports/sample.csv")
@signed_in
def sample():
    """The sample survey the help text links to: the format by example."""
    _importer()
    if not SAMPLE.is_file():
        not_found()
    return send_file(SAMPLE, mimetype="text/csv", as_attachment=True,
                     download_name="survey-sample.csv")


@bp.post("/imports")
@signed_in
@idempotent
def upload():
    user = _importer()
    form = ImportForm()
    upload = form.file.data
    context = {"columns": _columns(), "outcome": None, "problems": []}
    try:
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationFailed("No file.", [{"field": "file", "rule": "required",
                                                 "message": _("Choose a survey file.")}])
        survey = SurveyFile(upload.read(), upload.filename)
        outcome = import_survey(user, survey, skip_invalid=bool(form.skip_invalid.data),
                                dry_run=bool(form.dry_run.data))
    except ApiError as err:
        db.session.rollback()
        return _refused(form, err, context)
    problems = [{**p, "text": in_words(p)} for p in outcome.problems]
    return render_template("imports/index.html", form=form, columns=_columns(),
                           outcome=outcome, problems=problems)


def _refused(form: ImportForm, err: ApiError, context: dict):
    """Bad rows (nothing imported) or an unreadable file: listed line by line under the form,
    the first problem also beside the file field; 422."""
    details = [d for d in err.details if isinstance(d, dict)] \
        if isinstance(err.details, list) else []
    rows = [{**d, "text": in_words(d)} for d in details if "line" in d]
    if err.code == "invalid_rows":
        summary = _("%(count)s rows are invalid; nothing was imported. Correct them, or choose "
                    "to skip invalid rows.", count=len({d["line"] for d in rows}))
    elif err.code == "unsupported_media_type":
        summary = _("Save the survey as .xlsx (Excel 2007 or later) or .csv.")
    elif rows:
        summary = _("The file cannot be imported: %(problem)s", problem=rows[0]["text"])
    else:
        summary = None
    if summary is not None:
        err = ValidationFailed(err.message, [{"field": "file", "rule": err.code,
                                              "message": summary}], code=err.code)
    else:
        err.details = [{**d, "message": in_words(d)} for d in details]
    return form_failed("imports/index.html", form, err, **{**context, "problems": rows,
                                                            "refused": True})
