"""``/api/v1/zones`` and ``/api/v1/compounds``."""
from __future__ import annotations

from flask import Blueprint

from casework.common.idempotency import idempotent
from casework.common.paging import paginate
from casework.common.requests import current_user, json_body, query_args
from casework.extensions import db
from casework.places import operations
from casework.places.models import Compound
from casework.places.queries import visible_compounds, visible_zones
from casework.places.schemas import (CompoundCreate, CompoundPatch, CompoundQuery, ZoneCreate,
                                     ZonePatch)

bp = Blueprint("places", __name__)


@bp.get("/zones")
def list_zones():
    zones = db.session.scalars(visible_zones(current_user()))
    return {"items": [zone.to_dict() for zone in zones]}


@bp.post("/zones")
@idempotent
def create_zone():
    body = json_body(ZoneCreate)
    return operations.create_zone(body.code, body.name, user=current_user()).to_dict(), 201


@bp.get("/compounds")
def list_compounds():
    args = query_args(CompoundQuery)
    return paginate(visible_compounds(current_user(), args.zone_id), args.page, args.per_page,
                    Compound.to_dict)


@bp.post("/compounds")
@idempotent
def create_compound():
    body = json_body(CompoundCreate)
    return operations.create_compound(body.zone_id, body.name, body.address,
                                      user=current_user()).to_dict(), 201


@bp.patch("/zones/<int:zone_id>")
@idempotent
def update_zone(zone_id: int):
    body = json_body(ZonePatch)
    return operations.rename_zone(current_user(), zone_id, body.name).to_dict()


@bp.patch("/compounds/<int:compound_id>")
@idempotent
def update_compound(compound_id: int):
    body = json_body(CompoundPatch)
    changes = body.model_dump(exclude_unset=True)
    return operations.edit_compound(current_user(), compound_id, changes).to_dict()
