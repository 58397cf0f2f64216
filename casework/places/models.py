"""Zones (片区) and the residential compounds (小区) in them."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import db


class Zone(db.Model):
    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    compounds: Mapped[list["Compound"]] = relationship(back_populates="zone",
                                                        order_by="Compound.name")

    def to_dict(self) -> dict:
        from casework.places.schemas import ZoneOut
        return ZoneOut.model_validate(self).model_dump(mode="json")


class Compound(db.Model):
    __tablename__ = "compounds"
    __table_args__ = (UniqueConstraint("zone_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")

    zone: Mapped[Zone] = relationship(back_populates="compounds")

    def to_dict(self) -> dict:
        from casework.places.schemas import CompoundOut
        return CompoundOut.model_validate(self).model_dump(mode="json")
