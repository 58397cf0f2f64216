"""The zones' and compounds' admin pages: lists, a new zone or compound, renaming a zone (its
code stays: records and imports name it), renaming a compound or correcting its address."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from casework.admin.forms import CompoundEditForm, CompoundForm, ZoneEditForm, ZoneForm
from casework.admin.problems import checked, in_words, invalid_form
from casework.admin.views import bp
from casework.common.errors import ApiError, NotFound
from casework.common.idempotency import idempotent
from casework.common.paging import paginate
from casework.extensions import db
from casework.places import operations
from casework.places.models import Compound, Zone
from casework.places.queries import visible_compounds, visible_zones
from casework.places.schemas import CompoundCreate, CompoundPatch, ZoneCreate, ZonePatch
from casework.web.pages import done, form_failed, page_number, page_user, signed_in

PER_PAGE = 100


def _zones() -> list[Zone]:
    return list(db.session.scalars(visible_zones(page_user())))


def _zone_list() -> dict:
    counts = dict(db.session.execute(select(Compound.zone_id, func.count())
                                     .group_by(Compound.zone_id)).all())
    return {"zones": _zones(), "compound_counts": counts}


def _get(model: type, record_id: int):
    """A zone or compound among those the admin sees (every one), else the 404 page."""
    query = visible_zones(page_user()) if model is Zone else visible_compounds(page_user())
    found = db.session.scalar(query.where(model.id == record_id))
    if found is None:
        raise NotFound("No such place.")
    return found


@dataclass(frozen=True)
class _Page:
    """A zone's or a compound's own page: the two are shown and saved alike, and differ only in
    these."""

    model: type
    template: str
    name: str  # the record's name in the template
    form: type
    listing: str  # where a saved change goes back to
    duplicate_field: str | None = None


ZONE_PAGE = _Page(Zone, "admin/zone.html", "zone", ZoneEditForm, "admin_pages.zones")
COMPOUND_PAGE = _Page(Compound, "admin/compound.html", "compound", CompoundEditForm,
                      "admin_pages.compounds", duplicate_field="name")


def _show(page: _Page, record_id: int):
    found = _get(page.model, record_id)
    return render_template(page.template, form=page.form(formdata=None, obj=found),
                           **{page.name: found})


def _save(page: _Page, record_id: int, change: Callable[[Any, Any], None],
          back: Callable[[Any], dict]):
    """One change through its operation; a refusal shows the page again as it is stored, with
    the problem beside its field (nothing of the change kept)."""
    found = _get(page.model, record_id)
    form = page.form()
    try:
        change(found, form)
    except ApiError as err:
        db.session.rollback()
        return form_failed(page.template, form, in_words(err, page.duplicate_field),
                           **{page.name: _get(page.model, record_id)})
    return done(page.listing, _("Saved."), **back(found))


# Zones ---------------------------------------------------------------------------------------

@bp.get("/zones")
@signed_in
def zones():
    return render_template("admin/zones.html", form=ZoneForm(formdata=None), **_zone_list())


@bp.post("/zones")
@signed_in
@idempotent
def create_zone():
    form = ZoneForm()
    try:
        body = checked(ZoneCreate, {"code": form.code.data or "", "name": form.name.data or ""})
        zone = operations.create_zone(body.code, body.name, user=page_user())
    except ApiError as err:
        db.session.rollback()
        return form_failed("admin/zones.html", form, in_words(err, "code"), **_zone_list())
    return done("admin_pages.zones", _("Zone %(code)s created.", code=zone.code))


@bp.get("/zones/<int:zone_id>")
@signed_in
def zone(zone_id: int):
    return _show(ZONE_PAGE, zone_id)


@bp.post("/zones/<int:zone_id>")
@signed_in
@idempotent
def update_zone(zone_id: int):
    def rename(found: Zone, form: ZoneEditForm) -> None:
        body = checked(ZonePatch, {"name": form.name.data or ""})
        operations.rename_zone(page_user(), found.id, body.name)

    return _save(ZONE_PAGE, zone_id, rename, lambda found: {})


# Compounds -----------------------------------------------------------------------------------

def _compound_list() -> dict:
    raw = request.args.get("zone", "")
    zone_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    page = paginate(visible_compounds(page_user(), zone_id), page_number(), PER_PAGE,
                    lambda row: row)
    return {"page": page, "zones": _zones(), "zone_filter": zone_id}


@bp.get("/compounds")
@signed_in
def compounds():
    listing = _compound_list()
    form = CompoundForm(listing["zones"], formdata=None, zone_id=listing["zone_filter"])
    return render_template("admin/compounds.html", form=form, **listing)


@bp.post("/compounds")
@signed_in
@idempotent
def create_compound():
    listing = _compound_list()
    form = CompoundForm(listing["zones"])
    try:
        if not form.validate_on_submit():
            raise invalid_form(form)
        body = checked(CompoundCreate, {"zone_id": form.zone_id.data or 0,
                                        "name": form.name.data or "",
                                        "address": form.address.data or ""})
        compound = operations.create_compound(body.zone_id, body.name, body.address,
                                              user=page_user())
    except ApiError as err:
        db.session.rollback()
        return form_failed("admin/compounds.html", form, in_words(err, "name"),
                           **_compound_list())
    return done("admin_pages.compounds", _("Compound %(name)s created.", name=compound.name),
                zone=compound.zone_id)


@bp.get("/compounds/<int:compound_id>")
@signed_in
def compound(compound_id: int):
    return _show(COMPOUND_PAGE, compound_id)


@bp.post("/compounds/<int:compound_id>")
@signed_in
@idempotent
def update_compound(compound_id: int):
    def edit(found: Compound, form: CompoundEditForm) -> None:
        changes = checked(CompoundPatch, {"name": form.name.data or "",
                                          "address": form.address.data or ""})
        operations.edit_compound(page_user(), found.id, changes.model_dump(exclude_unset=True))

    return _save(COMPOUND_PAGE, compound_id, edit, lambda found: {"zone": found.zone_id})
