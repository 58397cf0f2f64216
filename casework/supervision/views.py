"""The supervisor's inspection desk (核查) and the lifecycle page.

Inspection: demolished cases waiting for the supervisor, the photos before and after side by
side, with the forms to close (the inspection note) or reopen (a new deadline); and the
negotiated cases past their deadline, with the approval of enforcement. Every step goes
through ``fire_trigger``, as the API's transitions do; which buttons show is the lifecycle's
``allowed_triggers``, and a failed guard comes back beside its field (422), nothing changed.

The lifecycle page reads the declarations themselves, so it can never drift from the rules."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casework.accounts.models import User
from casework.cases import lifecycle as case_lifecycle
from casework.cases import operations
from casework.cases.models import AttachmentKind, Case, CaseState
from casework.cases.queries import allowed_triggers, filtered_cases, get_visible_case
from casework.cases.schemas import CaseQuery
from casework.common.errors import ApiError
from casework.common.lifecycle import Deadline, Lifecycle
from casework.common.idempotency import idempotent
from casework.evidence.models import Attachment
from casework.evidence.queries import cases_photos
from casework.extensions import db
from casework.supervision.diagram import lifecycle_svg
from casework.supervision.forms import INSPECTION_TRIGGERS, InspectionForm, inspection_form
from casework.settings import setting, settings
from casework.web.labels import (problem_text, role_label, state_label, trigger_label,
                                 workorder_state_label)
from casework.web.pages import done, form_failed, not_found, page_user, signed_in
from casework.workorders import lifecycle as workorder_lifecycle

bp = Blueprint("supervision_pages", __name__, template_folder="templates")

# A desk's day of inspections; more are one link away on the case list.
SHOWN = 50

_PROBLEMS = {
    "stale_version": _l("Someone changed this case meanwhile; check it and try again."),
    "invalid_transition": _l("This step is no longer possible: the case has moved on."),
}


@dataclass
class Waiting:
    """One case on the desk: its photos and the forms of the steps this user may take."""

    case: Case
    before: list[Attachment]
    after: list[Attachment]
    forms: dict[str, InspectionForm] = field(default_factory=dict)
    approved: bool = False


def _photos_of(cases: list[Case]) -> dict[int, list[Attachment]]:
    """The before and after photos of every listed case, in one query (not one per card)."""
    photos: dict[int, list[Attachment]] = {case.id: [] for case in cases}
    if cases:
        for photo in db.session.scalars(cases_photos(list(photos))):
            photos[photo.case_id].append(photo)
    return photos


def _waiting(case: Case, user: User, photos: list[Attachment], approved: bool = False
             ) -> Waiting:
    allowed = allowed_triggers(case, user)
    forms = {trigger: inspection_form(trigger, case.id, formdata=None,
                                      expected_version=case.version)
             for trigger in INSPECTION_TRIGGERS if trigger in allowed}
    return Waiting(case, [p for p in photos if p.kind is AttachmentKind.BEFORE_PHOTO],
                   [p for p in photos if p.kind is AttachmentKind.AFTER_PHOTO], forms, approved)


def _desk(user: User, failed: Case | None = None, trigger: str | None = None,
          form: InspectionForm | None = None) -> dict:
    """The page's two lists; the refused form, when there is one, in place of its blank."""
    demolished = list(db.session.scalars(
        filtered_cases(user, CaseQuery(state=[CaseState.DEMOLISHED]))
        .order_by(None).order_by(Case.state_entered_at, Case.id).limit(SHOWN)))
    late = list(db.session.scalars(
        filtered_cases(user, CaseQuery(state=[CaseState.NEGOTIATED], overdue=True))
        .order_by(None).order_by(Case.due_at, Case.id).limit(SHOWN)))
    photos = _photos_of(demolished + late)
    # The approvals of all the late cards in one query, as their photos (not one per card).
    approved = operations.enforcement_approvals([case.id for case in late])
    lists = {"inspect": [_waiting(case, user, photos[case.id]) for case in demolished],
             "enforce": [_waiting(case, user, photos[case.id], case.id in approved)
                         for case in late]}
    for waiting in lists["inspect"] + lists["enforce"]:
        if failed is not None and waiting.case.id == failed.id and trigger in waiting.forms:
            waiting.forms[trigger] = form
    return {**lists, "shown": SHOWN, "failed_case": failed.id if failed else None}


@bp.get("/inspection")
@signed_in
def inspection():
    return render_template("supervision/inspection.html", **_desk(page_user()))


@bp.post("/inspection/<int:case_id>/<trigger>")
@signed_in
@idempotent
def fire(case_id: int, trigger: str):
    """Close, reopen or approve enforcement: one ``fire_trigger``, then back to the desk."""
    if trigger not in INSPECTION_TRIGGERS:
        not_found()
    user = page_user()
    case = get_visible_case(user, case_id, for_update=True)
    form = inspection_form(trigger, case.id)
    if not form.validate_on_submit():
        return _refused(user, case, trigger, form, None)
    try:
        operations.fire_trigger(
            case, user, trigger, expected_version=_version(form.expected_version.data),
            note=form.note.data or "",
            deadline=form.deadline.data if "deadline" in form else None)
    except ApiError as err:
        return _refused(user, case, trigger, form, err)
    return done("supervision_pages.inspection",
                _("Done: %(step)s (%(ref)s).", step=trigger_label(trigger), ref=case.ref))


def _refused(user: User, case: Case, trigger: str, form: InspectionForm, err: ApiError | None):
    db.session.rollback()
    case = get_visible_case(user, case.id)
    if err is None:
        return render_template("supervision/inspection.html", form=form,
                               **_desk(user, case, trigger, form)), 422
    if err.status == 409:
        form.expected_version.data = str(case.version)
        err.details = [{"field": None, "rule": err.code,
                        "message": str(_PROBLEMS.get(err.code, _PROBLEMS["stale_version"]))}]
    elif err.code in _PROBLEMS:
        err.message = str(_PROBLEMS[err.code])
    return form_failed("supervision/inspection.html", form, err, **_desk(user, case, trigger, form))


def _version(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else 0


# The lifecycle ------------------------------------------------------------------------------

def _deadline_text(rule: Deadline | None) -> str:
    if rule is None:
        return _("None running")
    if rule.kind == "given":
        return _("The date given")
    if rule.kind == "keep":
        return _("Unchanged")
    return _("%(days)s days", days=setting(rule.setting))


def _described(key: str, title: str, declared: Lifecycle, state_label) -> dict:
    """One lifecycle in the page's language: its states and, per trigger, the states it
    leaves and enters, who may fire it, its guards and the deadline it sets."""
    return {
        "key": key, "title": title,
        "initial": state_label(declared.initial),
        "states": [(state_label(state), state in declared.final) for state in declared.states],
        "triggers": [{
            "name": trigger.name, "label": trigger_label(trigger.name),
            "sources": [state_label(state) for state in trigger.sources],
            "dest": state_label(trigger.dest),
            "roles": [role_label(role) for role in sorted(trigger.roles, key=lambda r: r.value)],
            "guards": [problem_text({"rule": guard.rule, "message": guard.text(settings())})
                       for guard in trigger.guards],
            "deadline": _deadline_text(trigger.deadline),
        } for trigger in declared.triggers],
        "mermaid": declared.diagram(),
        "svg": lifecycle_svg(declared, state_label, trigger_label, title),
    }


@bp.get("/lifecycle")
@signed_in
def lifecycle():
    """Both lifecycles as tables and as their diagrams' text, read from the declarations."""
    return render_template("supervision/lifecycle.html", lifecycles=[
        _described("case", _("Case lifecycle"), case_lifecycle.LIFECYCLE, state_label),
        _described("workorder", _("Work-order lifecycle"), workorder_lifecycle.LIFECYCLE,
                   workorder_state_label)])
