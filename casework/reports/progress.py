"""Progress against the campaign's plan: per ISO week from its start, per zone and overall.

Progress is counted in **closed** cases, as SPEC section 7 draws it (cumulative closed cases
per week against the planned curve): the target counts the structures a zone must clear, and
a dismissed case (a lawful structure) leaves the default target rather than counting toward
it. A case counts in the week it was last closed, in the district's time zone; one closed
before the campaign started counts from the first week; one reopened counts again only once
closed again. The figures come from one statement over the kept counts: the hours of
``case_closures`` are bucketed into weeks in the database by ``CASE`` over the weeks'
boundaries, which are few (one per week of the campaign).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, literal_column, select, union_all

from casework import clock
from casework.accounts.models import User
from casework.campaign.plan import (RECENT_DAYS, at_risk, forecast_finish, iso_week,
                                    needed_per_week, planned_done, recent_rate, weeks_between)
from casework.campaign.queries import require_campaign, zone_plans, zones_in_view
from casework.cases.counts import DONE_CASE, CaseClosure, CaseCount
from casework.cases.models import Case, CaseState
from casework.extensions import db
from casework.reports.queries import (counted, done_in_window, floor_hour, require_reader,
                                      tagged, zone_ids_of, zone_ref)
from casework.reports.schemas import (CampaignRef, ProgressOut, ProgressTotal, ProgressWeek,
                                      ProgressZone)

# The bucket before the weeks (0, 1, ...): closed before the start.
BEFORE_START = -1


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


def _closed_by_week(zone_ids: list[int], bounds: list[datetime], now: datetime
                    ) -> tuple[dict[int, int], dict[int, dict[int, int]], dict[int, int]]:
    """Per zone, in one statement: its cases not dismissed (the default target), its closed
    cases by bucket (-1 before ``bounds[0]``, n from ``bounds[n]``) and those closed in the
    last four weeks. The hours of ``case_closures`` fall in a bucket each; a bound that cuts
    an hour (a time zone whose midnight is not on a UTC hour) has that hour's part after it
    counted from the index of finished cases and moved to the bucket it starts."""
    week = case(*((CaseClosure.hour < bound, n - 1) for n, bound in enumerate(bounds)),
                else_=len(bounds) - 1)
    parts = [
        counted(zone_ids).with_only_columns(CaseCount.zone_id, tagged("clearable"),
                                            func.sum(CaseCount.n), literal_column("0"))
        .where(CaseCount.state != CaseState.DISMISSED.value).group_by(CaseCount.zone_id),
        select(CaseClosure.zone_id, tagged("week"), func.sum(CaseClosure.n), week)
        .where(CaseClosure.zone_id.in_(zone_ids), CaseClosure.state == CaseState.CLOSED.value)
        .group_by(CaseClosure.zone_id, week),
    ]
    for part in done_in_window(zone_ids, [CaseState.CLOSED], now - timedelta(days=RECENT_DAYS),
                               "recent", strict=True, by=lambda table: table.zone_id):
        parts.append(part.add_columns(literal_column("0")))
    for n, bound in enumerate(bounds):
        if bound != floor_hour(bound):
            parts.append(select(Case.zone_id, tagged("cut"), func.count(),
                                literal_column(str(n)))
                         .where(DONE_CASE, Case.state == CaseState.CLOSED,
                                Case.zone_id.in_(zone_ids), Case.state_entered_at >= bound,
                                Case.state_entered_at < floor_hour(bound) + timedelta(hours=1))
                         .group_by(Case.zone_id))
    clearable: dict[int, int] = defaultdict(int)
    buckets: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    recent: dict[int, int] = defaultdict(int)
    for zone_id, what, count, bucket in db.session.execute(union_all(*parts)):
        if what == "clearable":
            clearable[zone_id] += int(count)
        elif what == "week":
            buckets[zone_id][int(bucket)] += int(count)
        elif what == "recent":
            recent[zone_id] += int(count)
        else:  # closed after a bound, in the hour the bound cuts
            buckets[zone_id][int(bucket) - 1] -= int(count)
            buckets[zone_id][int(bucket)] += int(count)
    return clearable, buckets, recent


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
    clearable, buckets, recent_done = _closed_by_week(zone_ids_of(zones), bounds, now)

    weeks = len(mondays)
    closed = {zone.id: [0] * weeks for zone in zones}
    baseline = dict.fromkeys(closed, 0)
    for zone_id in closed:
        for bucket, count in buckets[zone_id].items():
            if bucket == BEFORE_START:
                baseline[zone_id] += count
            elif bucket >= 0 and weeks:
                closed[zone_id][min(bucket, weeks - 1)] += count

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
