"""Which zones and compounds a user may see (spec section 8)."""
from __future__ import annotations

from sqlalchemy import Select, select

from casework.accounts.models import User
from casework.places.models import Compound, Zone


def visible_zones(user: User) -> Select:
    query = select(Zone).order_by(Zone.code)
    if user.sees_whole_district:
        return query
    return query.where(Zone.id.in_(user.zone_ids))


def visible_compounds(user: User) -> Select:
    query = select(Compound).order_by(Compound.zone_id, Compound.name)
    if user.sees_whole_district:
        return query
    return query.where(Compound.zone_id.in_(user.zone_ids))
