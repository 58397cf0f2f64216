"""Creating zones and compounds (admin work)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from casework.common.errors import Conflict, NotFound, ValidationFailed, problem
from casework.common.policy import require_administrator, require_role
from casework.extensions import db
from casework.places import policies
from casework.places.models import Compound, Zone

if TYPE_CHECKING:  # users are above places: their zones are places
    from casework.accounts.models import User


def create_zone(code: str, name: str, *, user: Any = None) -> Zone:
    """A new zone. ``user`` is who asks (an admin); the CLI and the demo loader, run by whoever
    runs the district's server, leave it out."""
    if user is not None:
        require_role(user, *policies.MANAGE_PLACES)
    if db.session.scalar(select(Zone.id).where(Zone.code == code)) is not None:
        raise Conflict(f"A zone with code {code!r} already exists.", code="duplicate")
    zone = Zone(code=code, name=name)
    db.session.add(zone)
    db.session.flush()
    return zone


def get_or_create_zone(code: str, name: str | None = None) -> Zone:
    zone = db.session.scalar(select(Zone).where(Zone.code == code))
    return zone or create_zone(code, name or code)


def create_compound(zone_id: int, name: str, address: str = "", *, user: Any = None
                    ) -> Compound:
    if user is not None:
        require_role(user, *policies.MANAGE_PLACES)
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


def create_compounds(keys: list[tuple[int, str]]) -> dict[tuple[int, str], Compound]:
    """Many new compounds at once (a survey's unknown compounds), one flush for all, by
    (zone id, name). The caller has checked that each zone exists and that no name is taken
    in its zone; the unique key on (zone, name) backs that up."""
    compounds = {(zone_id, name): Compound(zone_id=zone_id, name=name, address="")
                 for zone_id, name in keys}
    db.session.add_all(compounds.values())
    db.session.flush()
    return compounds


def rename_zone(actor: User, zone_id: int, name: str) -> Zone:
    """An admin renames a zone; its code, which other records and imports name, stays."""
    require_administrator(actor)
    zone = db.session.get(Zone, zone_id)
    if zone is None:
        raise NotFound("No such zone.")
    zone.name = name
    db.session.flush()
    return zone


def edit_compound(actor: User, compound_id: int, changes: dict[str, Any]) -> Compound:
    """An admin renames a compound or corrects its address; it stays in its zone, with its
    cases."""
    require_administrator(actor)
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        raise NotFound("No such compound.")
    if not changes:
        raise ValidationFailed("Nothing to change.",
                               [problem(None, "not_empty", "Send at least one field to change.")])
    nulls = [problem(field, "not_null", "This field cannot be null.")
             for field in ("name", "address") if field in changes and changes[field] is None]
    if nulls:
        raise ValidationFailed("The compound cannot be changed.", nulls)
    name = changes.get("name", compound.name)
    duplicate = select(Compound.id).where(Compound.zone_id == compound.zone_id,
                                          Compound.name == name, Compound.id != compound.id)
    if db.session.scalar(duplicate) is not None:
        raise Conflict(f"The zone already has a compound named {name!r}.", code="duplicate")
    for field in ("name", "address"):
        if field in changes:
            setattr(compound, field, changes[field])
    db.session.flush()
    return compound
