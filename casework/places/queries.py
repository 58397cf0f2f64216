"""Which zones and compounds a user may see (spec section 8)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, select

from casework.common.policy import require_role
from casework.places import policies
from casework.places.models import Compound, Zone

if TYPE_CHECKING:  # users are above places: their zones are places
    from casework.accounts.models import User


def visible_zones(user: User) -> Select:
    require_role(user, *policies.SEE_PLACES)
    query = select(Zone).order_by(Zone.code)
    if user.sees_whole_district:
        return query
    return query.where(Zone.id.in_(user.zone_ids))


def visible_compounds(user: User, zone_id: int | None = None) -> Select:
    require_role(user, *policies.SEE_PLACES)
    query = select(Compound).order_by(Compound.zone_id, Compound.name)
    if zone_id is not None:
        query = query.where(Compound.zone_id == zone_id)
    if user.sees_whole_district:
        return query
    return query.where(Compound.zone_id.in_(user.zone_ids))
