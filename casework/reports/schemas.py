"""The reports' shapes, exactly as SPEC section 13 gives them (every count an integer)."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from casework.campaign.schemas import Out, UserRef, ZoneRef
from casework.common.schemas import Strict


class ReportQuery(Strict):
    """``?zone=CODE`` narrows a report to one of the zones the user may see."""

    zone: str | None = Field(None, min_length=1, max_length=20)


# Backlog ------------------------------------------------------------------------------------

class BacklogTotal(Out):
    states: dict[str, int]
    open: int
    done: int
    overdue: int
    # Age in whole days of the oldest open case (since it was recorded) in each open state;
    # null when no case is in that state.
    oldest_open_days: dict[str, int | None]
    by_kind: dict[str, dict[str, int]]
    open_by_difficulty: dict[str, int]


class BacklogZone(BacklogTotal):
    """A zone's line: the total's figures for that zone alone."""
    zone: ZoneRef


class BacklogOut(Out):
    zones: list[BacklogZone]
    total: BacklogTotal


# Board --------------------------------------------------------------------------------------

Colour = Literal["green", "red", "yellow", "grey"]


class BoardCompound(Out):
    id: int
    zone_id: int
    name: str
    counts: dict[str, int]
    total: int
    done: int
    # Done as a percentage of all the compound's cases, to one decimal (0 with no cases).
    done_pct: float
    colour: Colour
    overdue: int


class BoardOut(Out):
    compounds: list[BoardCompound]


# Progress -----------------------------------------------------------------------------------

class ProgressWeek(Out):
    week: str
    closed: int
    cumulative_done: int
    planned: int


class ProgressTotal(Out):
    target: int
    series: list[ProgressWeek]
    recent_rate: float
    forecast_finish: dt.date | None
    needed_per_week: int
    at_risk: bool


class ProgressZone(Out):
    zone: ZoneRef
    target: int
    series: list[ProgressWeek]
    recent_rate: float
    forecast_finish: dt.date | None
    needed_per_week: int
    at_risk: bool


class CampaignRef(Out):
    name: str
    start: dt.date
    end: dt.date


class ProgressOut(Out):
    campaign: CampaignRef
    zones: list[ProgressZone]
    overall: ProgressTotal


# Officers -----------------------------------------------------------------------------------

class OfficerRow(Out):
    user: UserRef
    open: int
    overdue: int
    done_last_30_days: int


class OfficersOut(Out):
    officers: list[OfficerRow]
