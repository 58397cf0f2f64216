"""The officer's case pages (phone first): today's cases, the zone's case list, a new case, and
the case page with one form per trigger the user may fire.

The same queries, policies and operations as ``/api/v1/cases``: the views parse a form, call
the operation and redirect, or show the operation's refusal beside its field (422) with
nothing changed; what a user may not see is the 404 page."""
from __future__ import annotations

from itertools import groupby

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from werkzeug.datastructures import FileStorage

from casework.accounts.models import User
from casework.accounts.queries import zone_officers
from casework.cases import lifecycle, operations, policies
from casework.cases.forms import AttachForm, CaseForm, EditForm, FilterForm, TriggerForm
from casework.cases.models import Case, CaseState
from casework.cases.queries import (CASE_ORDER, allowed_triggers, case_events, filtered_cases,
                                    get_visible_case)
from casework.cases.schemas import PERSONAL_FIELDS, CaseCreate, CasePatch, CaseQuery
from casework.common.errors import ApiError, ValidationFailed, problem
from casework.common.idempotency import idempotent
from casework.common.paging import list_page
from casework.common.requests import validation_details
from casework.evidence import operations as evidence
from casework.evidence.downloads import send
from casework.evidence.queries import case_attachments, get_attachment
from casework.extensions import db
from casework.places.queries import visible_compounds, visible_zones
from casework.web.labels import trigger_label
from casework.web.uploads import refused_beside_field
from casework.web.pages import (done, form_failed, list_filters, not_found, page_number, page_user,
                                signed_in)

bp = Blueprint("cases_pages", __name__, template_folder="templates")

PER_PAGE = 25
FILTERS = ("q", "state", "zone", "compound", "kind", "overdue", "officer")
OPEN_STATES = [state for state in CaseState if not state.is_final]
TODAY_LIMIT = 500  # one officer's open cases; more would not fit a day anyway

# What the operations say, in the page's language, by rule or error code (guard failures
# are translated by ``labels.problem_text``).
_PROBLEMS = {
    "unsupported_media_type": _l("Only photos (JPEG, PNG, WebP, HEIC) or PDF documents can be attached."),
    "not_empty": _l("The file is empty."),
    "required": _l("Choose a file first."),
    "stale_version": _l("Someone changed this case meanwhile; check it and try again."),
    "invalid_transition": _l("This step is no longer possible: the case has moved on."),
    "case_final": _l("The case is finished; a supervisor can reopen it."),
    "exists": _l("Choose a compound from the list."),
}


def _in_words(err: ApiError) -> ApiError:
    """The operation's refusal with the messages this page knows translated."""
    details = err.details if isinstance(err.details, list) else []
    details = [{**d, "message": str(_PROBLEMS[d["rule"]])}
               if isinstance(d, dict) and d.get("rule") in _PROBLEMS else d for d in details]
    if err.status == 409 and not details:
        known = _PROBLEMS.get(err.code, _PROBLEMS["stale_version"])
        details = [{"field": None, "rule": err.code, "message": str(known)}]
    err.details = details
    if err.code in _PROBLEMS:
        err.message = str(_PROBLEMS[err.code])
    return err


def _version(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else 0


def _attach(case: Case, user: User, upload: FileStorage | None, kind: str | None) -> None:
    """Stores one uploaded file on the case; a file refused is refused beside the upload
    field. A photo scaled down on the phone (``offline.js``) brings the time it was taken."""
    with refused_beside_field(_PROBLEMS, "The file was refused."):
        evidence.add_to_case(case, user, evidence.Upload(
            file=upload if upload and upload.filename else None, kind=kind,
            taken_at=request.form.get("taken_at")))


# Today's cases ------------------------------------------------------------------------------

@bp.get("/today")
@signed_in
def today():
    """The officer's open cases, grouped by compound: the compounds with overdue cases first,
    and in each, overdue first, then the soonest deadline."""
    user = page_user()
    if not policies.can_list_cases(user):
        not_found()
    query = filtered_cases(user, CaseQuery(officer=user.id, state=OPEN_STATES))
    cases = list(db.session.scalars(query.limit(TODAY_LIMIT)))
    far = (1, "9999")

    def urgency(case: Case) -> tuple:
        return (0, case.due_at.isoformat()) if case.overdue else (
            (1, case.due_at.isoformat()) if case.due_at else far)

    by_compound = sorted(cases, key=lambda c: (c.compound.name, c.compound_id))
    groups = [(compound, sorted(items, key=urgency)) for compound, items in
              ((key, list(items)) for key, items in groupby(by_compound,
                                                            key=lambda c: c.compound))]
    groups.sort(key=lambda group: urgency(group[1][0]))
    overdue = sum(1 for case in cases if case.overdue)
    return render_template("cases/today.html", groups=groups, total=len(cases),
                           overdue=overdue)


# The case list ------------------------------------------------------------------------------

@bp.get("/cases")
@signed_in
def index():
    user = page_user()
    if not policies.can_list_cases(user):
        not_found()
    zones = list(db.session.scalars(visible_zones(user)))
    compounds = list(db.session.scalars(visible_compounds(user)))
    form = FilterForm(zones, compounds, request.args)
    args, filtered, status = list_filters(CaseQuery, form, FILTERS)
    page = list_page(filtered_cases(user, args), CASE_ORDER, page=page_number(), after=None,
                     per_page=PER_PAGE, serialize=lambda case: case, searched=bool(args.q))
    return render_template("cases/index.html", page=page, form=form,
                           filtered=filtered), status


# A new case ---------------------------------------------------------------------------------

def _case_form(user: User, **kwargs) -> CaseForm:
    if not policies.can_record_cases(user):
        not_found()
    return CaseForm(list(db.session.scalars(visible_compounds(user))), **kwargs)


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


@bp.get("/cases/new")
@signed_in
def new():
    return render_template("cases/new.html", form=_case_form(page_user()))


@bp.post("/cases/new")
@signed_in
@idempotent
def create():
    """The case and its photo before, in one transaction: a refused photo records no case."""
    user = page_user()
    form = _case_form(user)
    if not form.validate_on_submit():
        return render_template("cases/new.html", form=form), 422
    fields = {name: form[name].data for name in ("compound_id", "kind", "address",
                                                 "description", "difficulty", "owner_unknown")}
    for name in ("owner_name", "owner_phone", "owner_id_number"):
        fields[name] = (form[name].data or "").strip() or None
    for name in ("lat", "lon", "accuracy_m"):
        fields[name] = _number(form[name].data)
    fields = {name: value for name, value in fields.items() if value is not None}
    try:
        try:
            body = CaseCreate.model_validate(fields)
        except ValidationError as exc:
            raise ValidationFailed("The case has invalid fields.",
                                   validation_details(exc)) from None
        case = operations.create_case(user, body.model_dump(exclude_unset=True))
        if form.attachment.data and form.attachment.data.filename:
            _attach(case, user, form.attachment.data, "before_photo")
    except ApiError as err:
        db.session.rollback()
        return form_failed("cases/new.html", form, _in_words(err))
    return done("cases_pages.show", _("Case %(ref)s recorded.", ref=case.ref), case_id=case.id)


# One case -----------------------------------------------------------------------------------

def _trigger_forms(case: Case, user: User) -> dict[str, TriggerForm]:
    return {name: TriggerForm.for_trigger(lifecycle.BY_NAME[name], formdata=None,
                                          expected_version=case.version)
            for name in allowed_triggers(case, user)}


def _context(case: Case, user: User, forms: dict[str, TriggerForm] | None = None,
             attach_form: AttachForm | None = None, failed: str | None = None) -> dict:
    attachments = list(db.session.scalars(case_attachments(case)))
    return {"case": case, "user": user, "forms": forms or _trigger_forms(case, user),
            "attach_form": attach_form or (AttachForm(formdata=None, prefix="file")
                                           if policies.can_edit(user, case) else None),
            "photos": [a for a in attachments if a.is_photo],
            "documents": [a for a in attachments if not a.is_photo],
            "events": case_events(case), "failed": failed,
            "sees_owner": user.sees_personal_data,
            "can_correct": policies.can_edit(user, case) and not case.state.is_final}


@bp.get("/cases/<int:case_id>")
@signed_in
def show(case_id: int):
    user = page_user()
    case = get_visible_case(user, case_id)
    return render_template("cases/show.html", **_context(case, user))


@bp.post("/cases/<int:case_id>/do/<trigger>")
@signed_in
@idempotent
def fire(case_id: int, trigger: str):
    """One step, with the file its guard asks for: the file, the owner's name and the step are
    one transaction, so a refused step keeps nothing (the request commits only on success)."""
    user = page_user()
    case = get_visible_case(user, case_id, for_update=True)
    declared = lifecycle.BY_NAME.get(trigger)
    if declared is None:
        not_found()
    form = TriggerForm.for_trigger(declared)
    if not form.validate_on_submit():
        return _refused(case, user, trigger, form, None)
    version = _version(form.expected_version.data)
    try:
        owner = "owner_name" in form and (form.owner_name.data or "").strip()
        if owner and owner != case.owner_name:
            operations.edit_case(case, user, version, {"owner_name": owner})
            db.session.flush()
            version = case.version
        upload = form.attachment.data if "attachment" in form else None
        if upload and upload.filename:
            kind = (form.attachment_kind.data if "attachment_kind" in form
                    else "after_photo")
            _attach(case, user, upload, kind)
        operations.fire_trigger(
            case, user, trigger, expected_version=version, note=form.note.data or "",
            deadline=form.deadline.data if "deadline" in form else None,
            method=(form.method.data or None) if "method" in form else None)
    except ApiError as err:
        return _refused(case, user, trigger, form, err)
    return done("cases_pages.show", _("Done: %(step)s.", step=trigger_label(trigger)),
                case_id=case.id)


def _refused(case: Case, user: User, trigger: str, form: TriggerForm, err: ApiError | None):
    """The case page again, as the case stands (without what this request added), with the
    problem beside its field: 422, or 409 when the case changed meanwhile."""
    db.session.rollback()
    case = get_visible_case(user, case.id)
    forms = _trigger_forms(case, user)
    if trigger in forms:  # else the step is no longer offered: its problem goes above
        forms[trigger] = form
    if err is None:
        if form.expected_version.errors:  # a hidden field: its problem is said above the form
            form.form_errors.append(_PROBLEMS["stale_version"])
        return render_template("cases/show.html", form=form,
                               **_context(case, user, forms, failed=trigger)), 422
    if err.status == 409:
        form.expected_version.data = str(case.version)
    return form_failed("cases/show.html", form, _in_words(err),
                       **_context(case, user, forms, failed=trigger))


@bp.post("/cases/<int:case_id>/attachments")
@signed_in
@idempotent
def attach(case_id: int):
    user = page_user()
    case = get_visible_case(user, case_id, for_update=True)
    form = AttachForm(prefix="file")
    try:
        if not form.validate_on_submit():
            raise ValidationFailed("The form is incomplete.", [])
        _attach(case, user, form.attachment.data, form.kind.data)
    except ApiError as err:
        db.session.rollback()
        case = get_visible_case(user, case_id)
        if not err.details and not err.status == 409:
            return render_template("cases/show.html", form=form, **_context(
                case, user, attach_form=form, failed="file")), 422
        return form_failed("cases/show.html", form, _in_words(err),
                           **_context(case, user, attach_form=form, failed="file"))
    return done("cases_pages.show", _("File added."), case_id=case.id)


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@signed_in
def attachment(case_id: int, attachment_id: int):
    """A file of the case, under the same rule as the API's download."""
    user = page_user()
    case = get_visible_case(user, case_id)
    return send(get_attachment(case_attachments(case), attachment_id), user)


# Correcting a case --------------------------------------------------------------------------

# The fields the page corrects, as PATCH /api/v1/cases/<id> takes them.
_DESCRIBED = ("compound_id", "kind", "address", "description", "difficulty", "owner_unknown")


def _edit_form(case: Case, user: User, **kwargs) -> EditForm:
    """The correction form, without the owner's fields for a user who may not see them."""
    if not policies.can_edit(user, case):
        not_found()
    form = EditForm(list(db.session.scalars(visible_compounds(user))),
                    zone_officers(case.zone_id), **kwargs)
    if not user.sees_personal_data:
        for name in PERSONAL_FIELDS:
            del form[name]
    return form


def _area(raw: str | None) -> float | None:
    text = (raw or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationFailed("The area is not a number.", [
            problem("area_m2", "number", _("Enter the area in square metres, e.g. 12.5."))
        ]) from None


def _finished(case: Case):
    flash(_PROBLEMS["case_final"], "warning")
    return redirect(url_for("cases_pages.show", case_id=case.id), code=303)


@bp.get("/cases/<int:case_id>/edit")
@signed_in
def edit(case_id: int):
    user = page_user()
    case = get_visible_case(user, case_id)
    form = _edit_form(case, user, formdata=None, obj=case)
    if case.state.is_final:
        return _finished(case)
    form.kind.data = case.kind.value
    form.officer_id.data = case.officer_id or 0
    form.area_m2.data = "" if case.area_m2 is None else f"{case.area_m2:g}"
    form.expected_version.data = str(case.version)
    return render_template("cases/edit.html", form=form, case=case)


@bp.post("/cases/<int:case_id>/edit")
@signed_in
@idempotent
def update(case_id: int):
    """The corrections in one PATCH of the case, under the API's schema and rules: a refused
    field is shown beside itself and nothing is changed."""
    user = page_user()
    case = get_visible_case(user, case_id, for_update=True)
    form = _edit_form(case, user)
    if case.state.is_final:
        return _finished(case)
    if not form.validate_on_submit():
        return render_template("cases/edit.html", form=form, case=case), 422
    changes = {name: form[name].data for name in _DESCRIBED}
    for name in PERSONAL_FIELDS:
        if name in form:
            changes[name] = (form[name].data or "").strip() or None
    changes["officer_id"] = form.officer_id.data or None
    version = _version(form.expected_version.data)
    try:
        changes["area_m2"] = _area(form.area_m2.data)
        try:
            body = CasePatch.model_validate({**changes, "expected_version": max(version, 1)})
        except ValidationError as exc:
            raise ValidationFailed("The case has invalid fields.",
                                   validation_details(exc)) from None
        operations.edit_case(case, user, version,
                             body.model_dump(exclude_unset=True, exclude={"expected_version"}))
    except ApiError as err:
        db.session.rollback()
        case = get_visible_case(user, case_id)
        if err.status == 409:
            form.expected_version.data = str(case.version)
        return form_failed("cases/edit.html", form, _in_words(err), case=case)
    return done("cases_pages.show", _("Case %(ref)s corrected.", ref=case.ref), case_id=case.id)
