"""Reading the campaign: the plan as stored, each zone's target and milestones, and the figures
the reverse schedule starts from."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from casework import clock
from casework.accounts.models import Role, User
from casework.campaign.models import Campaign, CampaignChange, CampaignZone
from casework.campaign.plan import Milestone, needed_per_week, reverse_schedule
from casework.campaign.schemas import (CampaignChangeOut, CampaignOut, CampaignZoneOut,
                                       MilestoneOut, ScheduledWeekOut, UserRef, ZoneRef)
from casework.cases.counts import CaseCount
from casework.cases.models import CaseState
from casework.common.errors import NotFound
from casework.extensions import db
from casework.places.models import Zone


def can_read_campaign(user: User | None) -> bool:
    """Officers, supervisors and admins read the plan; companies never see it (404).
    ``None`` is the trusted command line."""
    return user is None or user.role is not Role.COMPANY


def can_set_campaign(user: User) -> bool:
    """The district's command sets the plan: admins and supervisors attached to no zone."""
    return user.role in (Role.ADMIN, Role.SUPERVISOR) and user.sees_whole_district


def current_campaign(*, for_update: bool = False) -> Campaign | None:
    """The one campaign the district runs (the latest, should two ever have been made)."""
    query = (select(Campaign).order_by(Campaign.id.desc()).limit(1)
             .options(selectinload(Campaign.zones)))
    if for_update:
        query = query.with_for_update(of=Campaign).execution_options(populate_existing=True)
    return db.session.scalar(query)


def require_campaign() -> Campaign:
    campaign = current_campaign()
    if campaign is None:
        raise NotFound("No campaign has been planned yet; a district supervisor sets it with "
                       "PUT /api/v1/campaign.", code="no_campaign")
    return campaign


def zones_in_view(user: User | None, zone_code: str | None = None) -> list[Zone]:
    """The zones a user's figures cover, in code order: theirs, or the whole district for
    admins, supervisors with no zone and the command line; one of them when ``zone_code``
    names it (an unknown zone, or one the user may not see, is 404)."""
    query = select(Zone).order_by(Zone.code)
    if user is not None and not user.sees_whole_district:
        query = query.where(Zone.id.in_(user.zone_ids))
    if zone_code is not None:
        query = query.where(Zone.code == zone_code)
    zones = list(db.session.scalars(query))
    if zone_code is not None and not zones:
        raise NotFound(f"No zone {zone_code!r} among the zones you may see.")
    return zones


@dataclass
class ZonePlan:
    """A zone's plan with its default resolved: the target it is held to and its milestones."""

    zone: Zone
    target: int
    target_is_default: bool
    milestones: list[Milestone] = field(default_factory=list)


def milestones_of(entry: CampaignZone | None) -> list[Milestone]:
    if entry is None:
        return []
    return [Milestone(date.fromisoformat(m["date"]), m["cumulative_done"])
            for m in entry.milestones or []]


def zone_plans(campaign: Campaign, zones: list[Zone], clearable: dict[int, int]) -> list[ZonePlan]:
    """Each zone's target: its own, or by default ``clearable`` (its cases not dismissed)."""
    entries = {entry.zone_id: entry for entry in campaign.zones}
    plans = []
    for zone in zones:
        entry = entries.get(zone.id)
        explicit = entry is not None and entry.target is not None
        plans.append(ZonePlan(zone, entry.target if explicit else clearable.get(zone.id, 0),
                              not explicit, milestones_of(entry)))
    return plans


def clearable_and_closed(zone_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per zone, in one grouped query over the kept counts (``case_counts``: a few rows per
    compound, not one per case): cases not dismissed (the default target) and cases closed
    (the figure counted against the target)."""
    closed = case((CaseCount.state == CaseState.CLOSED.value, CaseCount.n), else_=0)
    rows = db.session.execute(
        select(CaseCount.zone_id, func.sum(CaseCount.n), func.sum(closed))
        .where(CaseCount.zone_id.in_(zone_ids), CaseCount.state != CaseState.DISMISSED.value)
        .group_by(CaseCount.zone_id))
    return {zone_id: (int(clearable or 0), int(done or 0)) for zone_id, clearable, done in rows}


def campaign_changes(campaign: Campaign):
    return (select(CampaignChange).where(CampaignChange.campaign_id == campaign.id)
            .options(selectinload(CampaignChange.actor_user))
            .order_by(CampaignChange.at.desc(), CampaignChange.id.desc()))


def _user_ref(user: User | None) -> UserRef | None:
    if user is None:
        return None
    return UserRef(id=user.id, username=user.username, display_name=user.display_name)


def campaign_plan(user: User | None) -> CampaignOut:
    """The plan as the user may see it (their zones, or the whole district), each zone with its
    target, milestones, closed count and the reverse schedule from today (404 when there is
    no campaign, or for a company)."""
    if not can_read_campaign(user):
        raise NotFound("No campaign here.")
    campaign = require_campaign()
    zones = zones_in_view(user)
    counts = clearable_and_closed([zone.id for zone in zones])
    today = clock.local_today()
    rows = []
    for zone_plan in zone_plans(campaign, zones, {z: c[0] for z, c in counts.items()}):
        done = counts.get(zone_plan.zone.id, (0, 0))[1]
        remaining = max(zone_plan.target - done, 0)
        rows.append(CampaignZoneOut(
            zone=ZoneRef(id=zone_plan.zone.id, code=zone_plan.zone.code, name=zone_plan.zone.name),
            target=zone_plan.target, target_is_default=zone_plan.target_is_default,
            milestones=[MilestoneOut(date=m.day, cumulative_done=m.cumulative_done)
                        for m in zone_plan.milestones],
            done=done, remaining=remaining,
            needed_per_week=needed_per_week(remaining, today, campaign.end_date),
            schedule=[ScheduledWeekOut(week=w.week, to_clear=w.to_clear, must_reach=w.must_reach)
                      for w in reverse_schedule(today, campaign.end_date, done, zone_plan.target,
                                                zone_plan.milestones)]))
    return CampaignOut(id=campaign.id, name=campaign.name, start=campaign.start_date,
                       end=campaign.end_date, version=campaign.version, today=today,
                       updated_at=campaign.updated_at, updated_by=_user_ref(campaign.updated_by),
                       zones=rows)


def change_out(change: CampaignChange) -> CampaignChangeOut:
    return CampaignChangeOut(id=change.id, at=change.at, by=_user_ref(change.actor_user),
                             actor=change.actor, changed=list(change.changed or []),
                             before=change.before, after=change.after)
