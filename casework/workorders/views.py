"""The work-order pages: a company's worklist and its orders (accept, complete with photos,
rework), the officer's verify/reject/cancel, and issuing a work order from the case page.

The same queries, policies and operations as ``/api/v1/workorders``: a company sees its own
orders only and never an owner's personal data; what a user may not see is the 404 page."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casework import clock
from casework.accounts.models import User
from casework.accounts.queries import companies
from casework.cases.models import Case
from casework.cases.queries import get_visible_case
from casework.common.idempotency import idempotent
from casework.common.errors import ApiError
from casework.common.paging import paginate
from casework.evidence import operations as evidence
from casework.evidence.downloads import send
from casework.evidence.models import AttachmentKind
from casework.evidence.queries import get_attachment, workorder_attachments
from casework.extensions import db
from casework.web.labels import trigger_label
from casework.web.pages import (done, form_failed, list_filters, not_found, page_number, page_user,
                                signed_in)
from casework.web.uploads import refused_beside_field
from casework.workorders import operations, policies
from casework.workorders.forms import CompleteForm, FilterForm, IssueForm, TransitionForm
from casework.workorders.models import WorkOrder, WorkOrderKind, WorkOrderState
from casework.workorders.queries import (allowed_triggers, case_workorders, filtered_workorders,
                                         get_visible_workorder, open_first, workorder_events)
from casework.workorders.schemas import WorkOrderQuery

bp = Blueprint("workorders_pages", __name__, template_folder="templates")

PER_PAGE = 25
FILTERS = ("state", "kind", "overdue", "company", "case")
# The issue form sits on the case page beside the case's own forms: its fields' ids stay apart.
ISSUE_PREFIX = "workorder"
# The due date the issue form suggests (a week of work); the operation judges any other.
SUGGESTED_DAYS = 7
# Notes that tell the company why: worded as such above the field.
REASON_LABEL = {"reject": _l("What must be redone (the company sees this)"),
                "cancel": _l("Why the work order is cancelled")}

# What the operations say, in the page's language, by rule or error code.
_PROBLEMS = {
    "not_past": _l("The due date cannot be in the past."),
    "within_limit": _l("The due date is too far away."),
    "exists": _l("Choose a company from the list."),
    "case_final": _l("The case is finished; its work orders can only be cancelled."),
    "workorder_finished": _l("The work order is finished; it takes no more photos."),
    "invalid_transition": _l("This step is no longer possible: the work order has moved on."),
    "stale_version": _l("Someone changed this work order meanwhile; check it and try again."),
    "unsupported_media_type": _l("Only photos (JPEG, PNG, WebP, HEIC) can be attached."),
    "not_empty": _l("The file is empty."),
}


def _in_words(err: ApiError) -> ApiError:
    """The operation's refusal with the messages this page knows translated."""
    known = _PROBLEMS.get(err.code)
    details = err.details if isinstance(err.details, list) else []
    details = [{**d, "message": str(_PROBLEMS[d["rule"]])}
               if isinstance(d, dict) and d.get("rule") in _PROBLEMS else d for d in details]
    if err.status == 409 and not details:
        details = [{"field": None, "rule": err.code,
                    "message": str(known or _PROBLEMS["stale_version"])}]
    err.details = details
    if known is not None:
        err.message = str(known)
    return err


def _issuers_companies(user: User) -> list:
    """Those who issue work orders choose among the companies; a company chooses nothing."""
    return companies(user) if policies.can_issue(user) else []


# The worklist -------------------------------------------------------------------------------

@bp.get("/workorders")
@signed_in
def index():
    user = page_user()
    form = FilterForm(_issuers_companies(user), request.args)
    args, filtered, status = list_filters(WorkOrderQuery, form, FILTERS)
    page = paginate(open_first(filtered_workorders(user, args)), page_number(), PER_PAGE,
                    lambda order: order)
    return render_template("workorders/index.html", page=page, form=form, case_id=args.case,
                           filtered=filtered), status


# One work order -----------------------------------------------------------------------------

def _forms_for(order: WorkOrder, user: User) -> dict[str, TransitionForm]:
    forms = {}
    for trigger in allowed_triggers(order, user):
        form_class = CompleteForm if trigger == "complete" else TransitionForm
        forms[trigger] = _labelled(trigger, form_class(prefix=trigger, formdata=None,
                                                       expected_version=order.version))
    return forms


def _labelled(trigger: str, form: TransitionForm) -> TransitionForm:
    if trigger in REASON_LABEL:
        form.note.label.text = REASON_LABEL[trigger]
    return form


def _context(order: WorkOrder, user: User, forms: dict[str, TransitionForm]) -> dict:
    events = workorder_events(order)
    rejections = [e for e in events if e.trigger == "workorder_reject"]
    return {"order": order, "forms": forms, "events": events,
            # Rework: the officer's reason, shown first, until the company accepts again.
            "returned": (rejections[-1] if order.state is WorkOrderState.REJECTED and rejections
                         else None),
            "attachments": list(db.session.scalars(workorder_attachments(order))),
            "sees_case": user.works_cases}


@bp.get("/workorders/<int:workorder_id>")
@signed_in
def show(workorder_id: int):
    user = page_user()
    order = get_visible_workorder(user, workorder_id)
    return render_template("workorders/show.html", **_context(order, user, _forms_for(order, user)))


@bp.post("/workorders/<int:workorder_id>/transitions/<trigger>")
@signed_in
@idempotent
def fire(workorder_id: int, trigger: str):
    """One step. For ``complete``, the photos and the step are one transaction: the request
    commits only when it succeeds, so a refused step keeps no photo either."""
    user = page_user()
    order = get_visible_workorder(user, workorder_id, for_update=True)
    form = _labelled(trigger, (CompleteForm if trigger == "complete" else TransitionForm)(
        prefix=trigger))
    if not form.validate_on_submit():
        return _refused(order, user, trigger, form, None)
    try:
        if isinstance(form, CompleteForm):
            _add_photos(order, user, form)
        operations.fire_trigger(order, user, trigger,
                                expected_version=_version(form.expected_version.data),
                                note=form.note.data or "")
    except ApiError as err:
        return _refused(order, user, trigger, form, err)
    return done("workorders_pages.show", _("Done: %(step)s.", step=trigger_label(trigger)),
                workorder_id=order.id)


def _refused(order: WorkOrder, user: User, trigger: str, form: TransitionForm,
             err: ApiError | None):
    """The page again, as the work order stays (without what this request added), with the
    problem beside its field: 422, or 409 when the order changed meanwhile."""
    db.session.rollback()
    order = get_visible_workorder(user, order.id)
    forms = _forms_for(order, user)
    if trigger in forms:
        forms[trigger] = form
    if err is None:
        return render_template("workorders/show.html", form=form,
                               **_context(order, user, forms)), 422
    if err.status == 409:
        form.expected_version.data = str(order.version)
    return form_failed("workorders/show.html", form, _in_words(err),
                       **_context(order, user, forms))


def _version(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() else 0


def _add_photos(order: WorkOrder, user: User, form: CompleteForm) -> None:
    """Each chosen photo, as a photo after the work; a file that is not a photo is refused
    beside the photo field. A photo scaled down on the phone (``offline.js``) comes with the
    time it was taken, one ``taken_at`` per photo."""
    photos = [photo for photo in form.attachment.data or [] if photo and photo.filename]
    taken = request.form.getlist("taken_at")
    for n, photo in enumerate(photos):
        with refused_beside_field(_PROBLEMS, "The photo was refused."):
            evidence.add_to_workorder(order, user, evidence.Upload(
                file=photo, kind=AttachmentKind.AFTER_PHOTO.value,
                taken_at=taken[n] if n < len(taken) else None))


# Photos -------------------------------------------------------------------------------------

@bp.get("/workorders/<int:workorder_id>/attachments/<int:attachment_id>")
@signed_in
def attachment(workorder_id: int, attachment_id: int):
    """A photo of the work order, under the same rule as the API: the order's own files and
    its case's before/after photos, never the case's documents."""
    user = page_user()
    order = get_visible_workorder(user, workorder_id)
    return send(get_attachment(workorder_attachments(order), attachment_id), user)


# Issuing from the case page -----------------------------------------------------------------

def issue_form(case: Case, user: User) -> IssueForm | None:
    """The issue form for the case page, when this user issues work orders and the case still
    takes them."""
    if not policies.can_issue(user) or case.state.is_final:
        return None
    return IssueForm(companies(user), formdata=None, prefix=ISSUE_PREFIX,
                     due_date=clock.local_today() + timedelta(days=SUGGESTED_DAYS))


@bp.app_template_global("case_workorders")
def _case_workorders(case: Case, user: User) -> list[WorkOrder]:
    return case_workorders(user, case.id)


@bp.app_template_global("workorder_issue_form")
def _workorder_issue_form(case: Case, user: User) -> IssueForm | None:
    return issue_form(case, user)


@bp.get("/cases/<int:case_id>/workorders/new")
@signed_in
def new(case_id: int):
    user = page_user()
    case = get_visible_case(user, case_id)
    form = issue_form(case, user)
    if form is None:
        not_found()
    return render_template("workorders/new.html", case=case, form=form)


@bp.post("/cases/<int:case_id>/workorders")
@signed_in
@idempotent
def create(case_id: int):
    user = page_user()
    case = get_visible_case(user, case_id, for_update=True)
    if not policies.can_issue(user):
        not_found()
    form = IssueForm(companies(user), prefix=ISSUE_PREFIX)
    if not form.validate_on_submit():
        return render_template("workorders/new.html", case=case, form=form), 422
    try:
        order = operations.create_workorder(case, user, form.company_id.data,
                                            WorkOrderKind(form.kind.data), form.due_date.data,
                                            form.note.data or "")
    except ApiError as err:
        return form_failed("workorders/new.html", form, _in_words(err), case=case)
    flash(_("Work order %(id)s issued.", id=order.id), "success")
    return redirect(f"/cases/{case.id}", code=303)  # the officer's case page
