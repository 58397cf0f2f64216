"""Setting the campaign plan, with every change recorded (who, when, what changed)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from casework import clock
from casework.accounts.models import User
from casework.campaign.models import Campaign, CampaignChange, CampaignZone
from casework.campaign.queries import can_read_campaign, can_set_campaign, current_campaign
from casework.campaign.schemas import CampaignPut
from casework.common.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem
from casework.extensions import db
from casework.places.models import Zone

# A campaign is a matter of months; a span of decades can only be a typing mistake.
MAX_CAMPAIGN_DAYS = 5 * 366


def _plan_problems(plan: CampaignPut, zone_codes: dict[int, str]) -> list[dict]:
    """Every rule the plan breaks, beyond the field types the schema already checked."""
    problems = []
    if plan.end <= plan.start:
        problems.append(problem("end", "after_start", "The end date must be after the start date."))
    elif plan.end - plan.start > timedelta(days=MAX_CAMPAIGN_DAYS):
        problems.append(problem("end", "too_long",
                                f"A campaign runs at most {MAX_CAMPAIGN_DAYS} days."))
    seen: set[int] = set()
    for n, zone in enumerate(plan.zones):
        where = f"zones.{n}"
        if zone.zone_id not in zone_codes:
            problems.append(problem(f"{where}.zone_id", "exists", "No such zone."))
        elif zone.zone_id in seen:
            problems.append(problem(f"{where}.zone_id", "unique",
                                    "The zone is planned twice; give each zone once."))
        seen.add(zone.zone_id)
        previous = None
        for m, milestone in enumerate(zone.milestones):
            at = f"{where}.milestones.{m}"
            if not plan.start <= milestone.date <= plan.end:
                problems.append(problem(f"{at}.date", "within_campaign",
                                        "A milestone falls between the start and end dates."))
            if previous is not None and milestone.date <= previous.date:
                problems.append(problem(f"{at}.date", "increasing",
                                        "Milestones come in date order, one per date."))
            if previous is not None and milestone.cumulative_done < previous.cumulative_done:
                problems.append(problem(f"{at}.cumulative_done", "not_decreasing",
                                        "A cumulative figure never falls below an earlier one."))
            if zone.target is not None and milestone.cumulative_done > zone.target:
                problems.append(problem(f"{at}.cumulative_done", "within_target",
                                        "A milestone cannot exceed the zone's target."))
            previous = milestone
    return problems


def _snapshot(campaign: Campaign, zone_codes: dict[int, str]) -> dict[str, Any]:
    return {
        "name": campaign.name,
        "start": campaign.start_date.isoformat(),
        "end": campaign.end_date.isoformat(),
        "zones": [{"zone_id": entry.zone_id, "code": zone_codes.get(entry.zone_id),
                   "target": entry.target, "milestones": list(entry.milestones or [])}
                  for entry in sorted(campaign.zones, key=lambda e: e.zone_id)],
    }


def _changed(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return ["created"]
    changed = [key for key in ("name", "start", "end") if before[key] != after[key]]
    old = {zone["zone_id"]: zone for zone in before["zones"]}
    new = {zone["zone_id"]: zone for zone in after["zones"]}
    blank = {"target": None, "milestones": []}
    for zone_id in sorted(old.keys() | new.keys()):
        code = (new.get(zone_id) or old[zone_id])["code"]
        for key in ("target", "milestones"):
            if old.get(zone_id, blank)[key] != new.get(zone_id, blank)[key]:
                changed.append(f"zones.{code}.{key}")
    return changed


def set_campaign(user: User, plan: CampaignPut) -> Campaign:
    """Creates the campaign or changes it to ``plan`` as a whole. A plan equal to the one in
    force changes nothing and records nothing."""
    if not can_read_campaign(user):
        raise NotFound("No campaign here.")
    if not can_set_campaign(user):
        raise Forbidden("Only the district's command (an admin or a supervisor with no zone) "
                        "sets the campaign plan.")
    zone_codes = dict(db.session.execute(select(Zone.id, Zone.code)).all())
    problems = _plan_problems(plan, zone_codes)
    if problems:
        raise ValidationFailed("The campaign plan has invalid fields.", problems)
    campaign = current_campaign(for_update=True)
    if (campaign is not None and plan.expected_version is not None
            and plan.expected_version != campaign.version):
        raise Conflict("The plan was changed by someone else; reload it and try again.",
                       {"version": campaign.version}, code="stale_version")
    before = _snapshot(campaign, zone_codes) if campaign is not None else None
    if campaign is None:
        campaign = Campaign()
        db.session.add(campaign)
    campaign.name = plan.name
    campaign.start_date = plan.start
    campaign.end_date = plan.end
    wanted = {zone.zone_id: zone for zone in plan.zones if zone.target is not None or zone.milestones}
    for entry in list(campaign.zones):
        if entry.zone_id not in wanted:
            campaign.zones.remove(entry)
    entries = {entry.zone_id: entry for entry in campaign.zones}
    for zone_id, zone in wanted.items():
        entry = entries.get(zone_id)
        if entry is None:
            entry = CampaignZone(zone_id=zone_id)
            campaign.zones.append(entry)
        entry.target = zone.target
        entry.milestones = [{"date": m.date.isoformat(), "cumulative_done": m.cumulative_done}
                            for m in zone.milestones]
    after = _snapshot(campaign, zone_codes)
    changed = _changed(before, after)
    if not changed:
        return campaign
    # Touching the campaign row moves its version even when only a zone's plan changed.
    now = clock.now()
    campaign.updated_at = now
    campaign.updated_by_id = user.id
    db.session.flush()
    db.session.add(CampaignChange(campaign_id=campaign.id, actor_id=user.id, actor=user.username,
                                  at=now, changed=changed, before=before, after=after))
    db.session.flush()
    return campaign
