"""The campaign (专项行动): its dates, each zone's target and milestones, and who changed it.

The district runs one campaign at a time: the ``campaigns`` table holds it, created by the first
``PUT /api/v1/campaign`` and changed by the later ones. A zone with no row in
``campaign_zones`` (or a row whose target is null) is held to the default target: every case
of the zone that is not dismissed, counted when the figures are read.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework import clock
from casework.accounts.models import User
from casework.common.types import UtcDateTime
from casework.extensions import db
from casework.places.models import Zone


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("end_date > start_date", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now,
                                                 onupdate=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    updated_by: Mapped[User | None] = relationship()
    zones: Mapped[list["CampaignZone"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignZone.zone_id")

    __mapper_args__ = {"version_id_col": version}


class CampaignZone(db.Model):
    """A zone's own plan: an explicit target and/or milestones ``[{date, cumulative_done}]``."""

    __tablename__ = "campaign_zones"
    __table_args__ = (CheckConstraint("target IS NULL OR target >= 0", name="target_not_negative"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"),
                                         primary_key=True)
    target: Mapped[int | None] = mapped_column(Integer)
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    campaign: Mapped[Campaign] = relationship(back_populates="zones")
    zone: Mapped[Zone] = relationship()


class CampaignChange(db.Model):
    """One change of the plan: who, when, the fields that changed, the plan before and after.
    Rows are only ever added."""

    __tablename__ = "campaign_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)

    actor_user: Mapped[User | None] = relationship()
