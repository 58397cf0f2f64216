"""Creating zones and compounds (admin work)."""
from __future__ import annotations

from sqlalchemy import select

from casework.common.errors import Conflict, ValidationFailed, problem
from casework.extensions import db
from casework.places.models import Compound, Zone


def create_zone(code: str, name: str) -> Zone:
    if db.session.scalar(select(Zone.id).where(Zone.code == code)) is not None:
        raise Conflict(f"A zone with code {code!r} already exists.", code="duplicate")
    zone = Zone(code=code, name=name)
    db.session.add(zone)
    db.session.flush()
    return zone


def get_or_create_zone(code: str, name: str | None = None) -> Zone:
    zone = db.session.scalar(select(Zone).where(Zone.code == code))
    return zone or create_zone(code, name or code)


def create_compound(zone_id: int, name: str, address: str = "") -> Compound:
    if db.session.get(Zone, zone_id) is None:
        raise ValidationFailed("The zone does not exist.",
                               [problem("zone_id", "exists", "No such zone.")])
    duplicate = select(Compound.id).where(Compound.zone_id == zone_id, Compound.name == name)
    if db.session.scalar(duplicate) is not None:
        raise Conflict(f"The zone already has a compound named {name!r}.", code="duplicate")
    compound = Compound(zone_id=zone_id, name=name, address=address)
    db.session.add(compound)
    db.session.flush()
    return compound
