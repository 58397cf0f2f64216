"""``/campaign``: the campaign plan (专项行动) as the user may see it, its reverse schedule and
the record of its changes, and the form that sets it.

The form is shown to whom ``can_set_campaign`` allows; the operation ``set_campaign`` decides
on submission (anyone else gets the 404 page) and its problems come back beside the fields."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError

from casework.accounts.models import User
from casework.campaign import operations
from casework.campaign.forms import CampaignForm, milestones_text, parse_milestones
from casework.campaign.queries import (campaign_changes, campaign_plan, can_read_campaign,
                                       can_set_campaign, change_out, current_campaign,
                                       zones_in_view)
from casework.campaign.schemas import CampaignOut, CampaignPut
from casework.common.errors import ApiError, NotFound, ValidationFailed
from casework.common.idempotency import idempotent
from casework.common.paging import paginate
from casework.common.requests import validation_details
from casework.extensions import db
from casework.web.pages import done, not_found, page_number, page_user, signed_in

bp = Blueprint("campaign_pages", __name__, template_folder="templates")

CHANGES_PER_PAGE = 20

# The operation's rules in the page's language.
_PROBLEMS = {
    "after_start": _l("The end date must be after the start date."),
    "too_long": _l("A campaign runs at most five years."),
    "within_campaign": _l("A milestone falls between the start and end dates."),
    "increasing": _l("Milestones come in date order, one per date."),
    "not_decreasing": _l("A cumulative figure never falls below an earlier one."),
    "within_target": _l("A milestone cannot exceed the zone's target."),
    "stale_version": _l("Someone changed the plan meanwhile; it is shown as it now stands."),
}


def _plan(user: User) -> CampaignOut | None:
    try:
        return campaign_plan(user)
    except NotFound as err:
        if err.code == "no_campaign":
            return None
        raise


def _blank_form(user: User, plan: CampaignOut | None) -> CampaignForm:
    """The form filled with the plan in force (a zone on its default target left blank)."""
    own = {row.zone.id: row for row in plan.zones} if plan else {}
    zones = [{"zone_id": str(zone.id),
              "target": None if zone.id not in own or own[zone.id].target_is_default
              else own[zone.id].target,
              "milestones": milestones_text(own[zone.id].milestones) if zone.id in own else ""}
             for zone in zones_in_view(user)]
    data = {"zones": zones}
    if plan is not None:
        data.update(name=plan.name, start=plan.start, end=plan.end,
                    expected_version=str(plan.version))
    return CampaignForm(formdata=None, data=data)


def change_words(changed: list[str]) -> list[str]:
    """A change record's ``changed`` keys (``created``, ``end``, ``zones.Z1.target``) in words."""
    fixed = {"created": _("Plan created"), "name": _("Name"), "start": _("Start date"),
             "end": _("End date")}
    words = []
    for key in changed:
        parts = key.split(".")
        if key in fixed:
            words.append(fixed[key])
        elif len(parts) == 3 and parts[0] == "zones" and parts[2] == "target":
            words.append(_("%(zone)s: target", zone=parts[1]))
        elif len(parts) == 3 and parts[0] == "zones" and parts[2] == "milestones":
            words.append(_("%(zone)s: milestones", zone=parts[1]))
        else:
            words.append(key)
    return words


def _context(user: User, plan: CampaignOut | None, form: CampaignForm | None) -> dict:
    campaign = current_campaign() if plan is not None else None
    changes = (paginate(campaign_changes(campaign), page_number(), CHANGES_PER_PAGE, change_out)
               if campaign is not None else None)
    zones = {str(zone.id): zone for zone in zones_in_view(user)}
    return {"plan": plan, "form": form if can_set_campaign(user) else None, "zones": zones,
            "changes": changes, "change_words": change_words}


@bp.get("/campaign")
@signed_in
def index():
    user = page_user()
    if not can_read_campaign(user):
        not_found()
    plan = _plan(user)
    return render_template("campaign/index.html", **_context(user, plan, _blank_form(user, plan)))


@bp.post("/campaign")
@signed_in
@idempotent
def save():
    user = page_user()
    form = CampaignForm()
    try:
        body = _body(form)
        plan = _validated(body)
        operations.set_campaign(user, plan)
    except ApiError as err:
        return _refused(user, form, err)
    return done("campaign_pages.index", _("The campaign plan is saved."))


def _body(form: CampaignForm) -> dict:
    """The form as ``PUT /api/v1/campaign``'s body; the form's own checks first."""
    valid = form.validate_on_submit()
    zones = []
    for n, entry in enumerate(form.zones):
        try:
            milestones = parse_milestones(entry.form.milestones.data)
        except ValueError as exc:
            entry.form.milestones.errors = [*entry.form.milestones.errors, str(exc)]
            valid = False
            continue
        zone_id = entry.form.zone_id.data or ""
        if not zone_id.isdigit() or len(zone_id) > 9:
            raise ValidationFailed("No such zone.", [{"field": f"zones.{n}.zone_id",
                                                      "rule": "exists", "message": "No such zone."}])
        zones.append({"zone_id": int(zone_id), "target": entry.form.target.data,
                      "milestones": milestones})
    if not valid:
        raise ValidationFailed("The form has invalid fields.", [])
    version = form.expected_version.data or ""
    return {"name": form.name.data, "start": form.start.data, "end": form.end.data,
            "zones": zones,
            "expected_version": int(version) if version.isdigit() and len(version) < 10 else None}


def _validated(body: dict) -> CampaignPut:
    try:
        return CampaignPut.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed("The plan has invalid fields.", [
            {**detail, "message": _("This value is not valid.")}
            for detail in validation_details(exc)]) from None


def _place(form: CampaignForm, err: ApiError) -> None:
    """The operation's problems beside their fields: ``zones.N.…`` on the zone's line."""
    details = err.details if isinstance(err.details, list) else []
    for detail in details:
        if not isinstance(detail, dict):
            continue
        message = str(_PROBLEMS.get(detail.get("rule"), detail.get("message", "")))
        parts = str(detail.get("field") or "").split(".")
        target = None
        if parts[0] == "zones" and len(parts) > 2 and parts[1].isdigit() \
                and int(parts[1]) < len(form.zones):
            line = form.zones[int(parts[1])].form
            target = line.target if parts[2] in ("target", "zone_id") else line.milestones
        elif parts[0] in ("name", "start", "end"):
            target = form[parts[0]]
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(message)
    err.details = []


def _refused(user: User, form: CampaignForm, err: ApiError):
    """The form again as sent, the problems beside their fields: 422 (409 when the plan was
    changed meanwhile); for whom may not set the plan, the 404 page."""
    db.session.rollback()
    if err.status in (403, 404):
        raise NotFound("No such page.") from err
    plan = _plan(user)
    if err.status == 409:
        form.expected_version.data = str(plan.version) if plan else ""
        form.form_errors.append(str(_PROBLEMS["stale_version"]))
    else:
        _place(form, err)
    if not (form.form_errors or any(field.errors for field in form)):
        form.form_errors.append(err.message)
    return render_template("campaign/index.html", **_context(user, plan, form)), \
        409 if err.status == 409 else 422
