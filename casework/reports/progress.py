"""Progress against the campaign's plan: per ISO week from its start, per zone and overall.

Progress is counted in **closed** cases, as SPEC section 7 draws it (cumulative closed cases
per week against the planned curve): the target counts the structures a zone must clear, and
a dismissed case (a lawful structure) leaves the default target rather than counting toward
it. A case counts in the week it was last closed, in the district's time zone; one closed
before the campaign started counts from the first week; one reopened counts again only once
closed again. The figures come from one grouped query: weeks are bucketed in the database by
``CASE`` over the weeks' boundaries, which are few (one per week of the campaign).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, func, select

from casework import clock
from casework.accounts.models import User
from casework.campaign.plan import (RECENT_DAYS, at_risk, forecast_finish, iso_week,
                                    needed_per_week, planned_done, recent_rate, weeks_between)
from casework.campaign.queries import require_campaign, zone_plans, zones_in_view
from casework.cases.models import Case, CaseState
from casework.extensions import db
from casework.reports.queries import count_where, require_reader, scoped_cases, zone_ref
from casework.reports.schemas import (CampaignRef, ProgressOut, ProgressTotal, ProgressWeek,
                                      ProgressZone)

# Buckets besides the weeks (0, 1, ...): closed before the start, and not closed at all.
BEFORE_START, NOT_CLOSED = -1, -2


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, clock.local_zone()).astimezone(timezone.utc)


def _figures(target: int, closed: list[int], baseline: int, recent: int, mondays: list[date],
             plan, today: date, end: date) -> dict:
    series, cumulative = [], baseline
    for monday, count in zip(mondays, closed):
        cumulative += count
        series.append(ProgressWeek(week=iso_week(monday), closed=count, cumulative_done=cumulative,
                                   planned=plan(monday + timedelta(days=6))))
    remaining = max(target - (baseline + sum(closed)), 0)
    forecast = forecast_finish(remaining, recent, today)
    return {"target": target, "series": series, "recent_rate": recent_rate(recent),
            "forecast_finish": forecast, "needed_per_week": needed_per_week(remaining, today, end),
            "at_risk": at_risk(remaining, forecast, end)}


def progress_report(user: User | None, zone_code: str | None = None) -> ProgressOut:
    """Closed per week, cumulative, the plan's figure, the recent rate, the forecast finish,
    the weekly rate still needed and whether each zone will miss the end date (404 with code
    ``no_campaign`` while no campaign is planned)."""
    require_reader(user)
    campaign = require_campaign()
    zones = zones_in_view(user, zone_code)
    now, today = clock.now(), clock.local_today()
    start, end = campaign.start_date, campaign.end_date
    mondays = weeks_between(start, today) if today >= start else []
    # Week n holds what was closed from its Monday 00:00 (local); week 0 from the start itself.
    bounds = [_local_midnight(start)] + [_local_midnight(m) for m in mondays[1:]]
    week = case((Case.state != CaseState.CLOSED, NOT_CLOSED),
                *((Case.state_entered_at < bound, n - 1) for n, bound in enumerate(bounds)),
                else_=len(bounds) - 1)
    recent = and_(Case.state == CaseState.CLOSED,
                  Case.state_entered_at > now - timedelta(days=RECENT_DAYS))
    cases = (scoped_cases(user, zones, zone_code)
             .with_only_columns(Case.zone_id.label("zone_id"), week.label("week"),
                                case((recent, 1), else_=0).label("recent"))
             .where(Case.state != CaseState.DISMISSED)
             .subquery())
    rows = db.session.execute(
        select(cases.c.zone_id, cases.c.week, func.count(), count_where(cases.c.recent == 1))
        .group_by(cases.c.zone_id, cases.c.week))

    weeks = len(mondays)
    closed = {zone.id: [0] * weeks for zone in zones}
    baseline = dict.fromkeys(closed, 0)
    clearable = dict.fromkeys(closed, 0)
    recent_done = dict.fromkeys(closed, 0)
    for zone_id, bucket, count, recent_count in rows:
        if zone_id not in closed:
            continue
        clearable[zone_id] += int(count)
        recent_done[zone_id] += int(recent_count)
        if bucket == BEFORE_START:
            baseline[zone_id] += int(count)
        elif bucket >= 0 and weeks:
            closed[zone_id][min(bucket, weeks - 1)] += int(count)

    plans = zone_plans(campaign, zones, clearable)
    out_zones = []
    for plan in plans:
        def planned(day: date, plan=plan) -> int:
            return planned_done(start, end, plan.target, plan.milestones, day)
        zone_id = plan.zone.id
        out_zones.append(ProgressZone(zone=zone_ref(plan.zone), **_figures(
            plan.target, closed[zone_id], baseline[zone_id], recent_done[zone_id], mondays,
            planned, today, end)))

    def planned_overall(day: date) -> int:
        return sum(planned_done(start, end, p.target, p.milestones, day) for p in plans)
    overall = _figures(sum(z.target for z in out_zones),
                       [sum(closed[z.id][n] for z in zones) for n in range(weeks)],
                       sum(baseline.values()), sum(recent_done.values()), mondays,
                       planned_overall, today, end)
    return ProgressOut(campaign=CampaignRef(name=campaign.name, start=start, end=end),
                       zones=out_zones, overall=ProgressTotal(**overall))
