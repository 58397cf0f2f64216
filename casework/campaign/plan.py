"""The plan's arithmetic, on plain numbers and dates: the planned curve, the reverse schedule
(倒排工期), the rate still needed and the forecast at the recent rate.

Days are the district's local dates. A plan runs from the start of its first day (0 done) to
the end of its last day (the target); milestones ``{date, cumulative_done}`` are points on the
way, reached at the end of their day. Weeks are ISO weeks, Monday to Sunday.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Sequence

# "Recent" is the last four weeks, rolling from now, so the rate does not drop on Mondays.
RECENT_DAYS = 28


@dataclass(frozen=True)
class Milestone:
    day: date
    cumulative_done: int


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_between(first: date, last: date) -> list[date]:
    """The Mondays of every ISO week from the one holding ``first`` to the one holding ``last``."""
    monday, weeks = monday_of(first), []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def _interpolate(points: Sequence[tuple[float, float]], x: float) -> float:
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return y1 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def planned_done(start: date, end: date, target: int, milestones: Iterable[Milestone],
                 day: date) -> int:
    """The plan's cumulative figure at the end of ``day``: straight from 0 at the start to the
    target at the end, or through the milestones, rounded half up."""
    length = (end - start).days + 1
    points = [(0.0, 0.0)]
    points += [(float((m.day - start).days + 1), float(m.cumulative_done)) for m in milestones]
    points.append((float(length), float(target)))
    x = min(max((day - start).days + 1, 0), length)
    return _round_half_up(_interpolate(points, x))


def needed_per_week(remaining: int, today: date, end: date) -> int:
    """What must be cleared each week from today (today included) to the end date to meet the
    target; everything at once when the end date has passed."""
    if remaining <= 0:
        return 0
    days_left = (end - today).days + 1
    if days_left <= 0:
        return remaining
    return math.ceil(remaining * 7 / days_left)


def recent_rate(recent_done: int) -> float:
    """Cases cleared per week over the last four weeks."""
    return round(recent_done * 7 / RECENT_DAYS, 2)


def forecast_finish(remaining: int, recent_done: int, today: date) -> date | None:
    """The day the target is reached at the recent rate: today when it already is, none when
    nothing was cleared recently (at that rate it never is)."""
    if remaining <= 0:
        return today
    if recent_done <= 0:
        return None
    return today + timedelta(days=-(-remaining * RECENT_DAYS // recent_done))


def at_risk(remaining: int, forecast: date | None, end: date) -> bool:
    return remaining > 0 and (forecast is None or forecast > end)


@dataclass(frozen=True)
class ScheduledWeek:
    week: str
    to_clear: int
    must_reach: int


def reverse_schedule(today: date, end: date, done: int, target: int,
                     milestones: Iterable[Milestone]) -> list[ScheduledWeek]:
    """倒排工期: from today's figure to the target at the end date, week by week, passing every
    milestone still ahead; each week says what must be cleared in it and the cumulative figure
    it must reach (rounded up: a plan that is met only on average is not met)."""
    if today > end:
        return []
    points, level = [(0.0, float(done))], float(done)
    for milestone in milestones:
        if today <= milestone.day <= end and milestone.cumulative_done > level:
            level = float(milestone.cumulative_done)
            points.append((float((milestone.day - today).days + 1), level))
    points.append((float((end - today).days + 1), float(max(target, done))))
    schedule, reached = [], done
    for monday in weeks_between(today, end):
        last_day = min(monday + timedelta(days=6), end)
        must_reach = math.ceil(_interpolate(points, (last_day - today).days + 1) - 1e-9)
        schedule.append(ScheduledWeek(iso_week(monday), must_reach - reached, must_reach))
        reached = must_reach
    return schedule
