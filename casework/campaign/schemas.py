"""The campaign plan: the body of ``PUT /api/v1/campaign`` and the shapes it reads back as."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from casework.common.schemas import Strict

MAX_MILESTONES = 100


class MilestoneIn(Strict):
    date: dt.date
    cumulative_done: int = Field(ge=0)


class ZonePlanIn(Strict):
    """A zone's own plan. With no ``target`` (or null) the zone is held to every case of it
    that is not dismissed; with no milestones its plan is a straight line."""

    zone_id: int = Field(ge=1)
    target: int | None = Field(None, ge=0)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=MAX_MILESTONES)


class CampaignPut(Strict):
    """The whole plan. Zones not named keep the default target and no milestones. With
    ``expected_version`` (the ``version`` last read), a plan changed since by someone else is
    refused with 409 instead of being overwritten."""

    name: str = Field(min_length=1, max_length=200)
    start: dt.date
    end: dt.date
    zones: list[ZonePlanIn] = Field(default_factory=list, max_length=1000)
    expected_version: int | None = Field(None, ge=1)


# Responses ----------------------------------------------------------------------------------

Timestamp = Annotated[dt.datetime, PlainSerializer(lambda value: value.isoformat(),
                                                   return_type=str, when_used="json"),
                      WithJsonSchema({"type": "string", "format": "date-time"})]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneRef(Out):
    id: int
    code: str
    name: str


class UserRef(Out):
    id: int
    username: str
    display_name: str


class MilestoneOut(Out):
    date: dt.date
    cumulative_done: int


class ScheduledWeekOut(Out):
    """One week of the reverse schedule: clear ``to_clear`` in it to stand at ``must_reach``."""

    week: str
    to_clear: int
    must_reach: int


class CampaignZoneOut(Out):
    zone: ZoneRef
    target: int
    target_is_default: bool
    milestones: list[MilestoneOut]
    # Closed cases, the figure counted against the target (dismissed ones are out of it).
    done: int
    remaining: int
    needed_per_week: int
    schedule: list[ScheduledWeekOut]


class CampaignOut(Out):
    id: int
    name: str
    start: dt.date
    end: dt.date
    version: int
    today: dt.date
    updated_at: Timestamp
    updated_by: UserRef | None
    zones: list[CampaignZoneOut]


class CampaignChangeOut(Out):
    id: int
    at: Timestamp
    by: UserRef | None
    actor: str
    changed: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any]


class CampaignChangesOut(Out):
    items: list[CampaignChangeOut]
    page: int
    per_page: int
    total: int
