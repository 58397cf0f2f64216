"""The backlog, the compound board and the officers' workload, each from grouped queries.

Every report costs the same few statements whatever the number of cases or compounds: the
zones in view, then one ``GROUP BY`` over the cases (and, for the board, one over the
compounds). Cases are scoped by the lists' own helper (``visible_cases``); ``user=None`` is
the trusted command line, which sees the whole district.

Words, as SPEC section 13 defines them: **done** is closed or dismissed; **open** is every
other state; **preparing** is identified or ownership verified; a case is **overdue** when it
is open and its deadline has passed (so late work still open counts as late, not only late
work that was finished).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, func, or_, select

from casework import clock
from casework.accounts.models import Role, User, user_zones
from casework.campaign.queries import can_read_campaign, zones_in_view
from casework.campaign.schemas import UserRef, ZoneRef
from casework.cases.models import Case, CaseKind, CaseState
from casework.cases.queries import visible_cases
from casework.common.errors import NotFound
from casework.extensions import db
from casework.places.models import Compound, Zone
from casework.reports.schemas import (BacklogOut, BacklogTotal, BacklogZone, BoardCompound,
                                      BoardOut, OfficerRow, OfficersOut)

STATES = [state.value for state in CaseState]
DONE = {CaseState.CLOSED.value, CaseState.DISMISSED.value}
OPEN = [state for state in STATES if state not in DONE]
PREPARING = {CaseState.IDENTIFIED.value, CaseState.OWNERSHIP_VERIFIED.value}
KINDS = [kind.value for kind in CaseKind]
DIFFICULTIES = [str(n) for n in range(1, 6)]
DONE_RECENTLY_DAYS = 30


def can_read_reports(user: User | None) -> bool:
    """Officers, supervisors and admins read the reports of their zones; a company never
    does (404, as for anything it may not see)."""
    return can_read_campaign(user)


def require_reader(user: User | None) -> None:
    if not can_read_reports(user):
        raise NotFound("No such report.")


def scoped_cases(user: User | None, zones: list[Zone], zone_code: str | None) -> Select:
    """The cases a report counts: those the user may see, in the one zone asked for if any."""
    query = visible_cases(user) if user is not None else select(Case)
    if zone_code is not None:
        query = query.where(Case.zone_id == zones[0].id)
    return query


def is_open():
    return Case.state.not_in([CaseState.CLOSED, CaseState.DISMISSED])


def is_overdue(now: datetime):
    return and_(is_open(), Case.due_at <= now)


def count_where(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def zone_ref(zone: Zone) -> ZoneRef:
    return ZoneRef(id=zone.id, code=zone.code, name=zone.name)


# Backlog ------------------------------------------------------------------------------------

class _BacklogTally:
    def __init__(self) -> None:
        self.states = dict.fromkeys(STATES, 0)
        self.overdue = 0
        self.oldest: dict[str, datetime | None] = dict.fromkeys(OPEN)
        self.by_kind = {kind: dict.fromkeys(STATES, 0) for kind in KINDS}
        self.open_by_difficulty = dict.fromkeys(DIFFICULTIES, 0)

    def add(self, state: str, kind: str, difficulty: int, count: int, overdue: int,
            first_created: datetime) -> None:
        self.states[state] += count
        self.by_kind[kind][state] += count
        self.overdue += overdue
        if state not in DONE:
            self.open_by_difficulty[str(difficulty)] += count
            if self.oldest[state] is None or first_created < self.oldest[state]:
                self.oldest[state] = first_created

    def figures(self, now: datetime) -> dict:
        done = sum(self.states[state] for state in DONE)
        return {
            "states": self.states,
            "open": sum(self.states.values()) - done,
            "done": done,
            "overdue": self.overdue,
            "oldest_open_days": {state: None if first is None else (now - first).days
                                 for state, first in self.oldest.items()},
            "by_kind": self.by_kind,
            "open_by_difficulty": self.open_by_difficulty,
        }


def backlog_report(user: User | None, zone_code: str | None = None) -> BacklogOut:
    """Cases by zone × state × kind, overdue, the oldest open case's age per state and the
    open cases per difficulty (先易后难: the easy ones first)."""
    require_reader(user)
    zones = zones_in_view(user, zone_code)
    now = clock.now()
    rows = db.session.execute(
        scoped_cases(user, zones, zone_code)
        .with_only_columns(Case.zone_id, Case.state, Case.kind, Case.difficulty, func.count(),
                           count_where(is_overdue(now)), func.min(Case.created_at))
        .group_by(Case.zone_id, Case.state, Case.kind, Case.difficulty))
    tallies = {zone.id: _BacklogTally() for zone in zones}
    total = _BacklogTally()
    for zone_id, state, kind, difficulty, count, overdue, first_created in rows:
        if zone_id not in tallies:
            continue
        for tally in (tallies[zone_id], total):
            tally.add(CaseState(state).value, CaseKind(kind).value, difficulty, int(count),
                      int(overdue), first_created)
    return BacklogOut(
        zones=[BacklogZone(zone=zone_ref(zone), **tallies[zone.id].figures(now)) for zone in zones],
        total=BacklogTotal(**total.figures(now)))


# Board --------------------------------------------------------------------------------------

def colour_of(counts: dict[str, int]) -> str:
    """The wall board's colour: green when every case is done, yellow while every case is
    still preparing, red for any other mix (work under way), grey with no cases."""
    total = sum(counts.values())
    if total == 0:
        return "grey"
    if sum(counts[state] for state in DONE) == total:
        return "green"
    if sum(counts[state] for state in PREPARING) == total:
        return "yellow"
    return "red"


def board_report(user: User | None, zone_code: str | None = None) -> BoardOut:
    """Every compound in view as a tile: counts by state, done, its colour and overdue mark."""
    require_reader(user)
    zones = zones_in_view(user, zone_code)
    now = clock.now()
    compounds = db.session.execute(
        select(Compound.id, Compound.zone_id, Compound.name)
        .join(Zone, Zone.id == Compound.zone_id)
        .where(Compound.zone_id.in_([zone.id for zone in zones]))
        .order_by(Zone.code, Compound.name, Compound.id)).all()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    overdue: dict[int, int] = defaultdict(int)
    for compound_id, state, count, late in db.session.execute(
            scoped_cases(user, zones, zone_code)
            .with_only_columns(Case.compound_id, Case.state, func.count(),
                               count_where(is_overdue(now)))
            .group_by(Case.compound_id, Case.state)):
        counts[compound_id][CaseState(state).value] += int(count)
        overdue[compound_id] += int(late)
    tiles = []
    for compound_id, zone_id, name in compounds:
        tally = counts[compound_id]
        total = sum(tally.values())
        done = sum(tally[state] for state in DONE)
        tiles.append(BoardCompound(
            id=compound_id, zone_id=zone_id, name=name, counts=tally, total=total, done=done,
            done_pct=round(100 * done / total, 1) if total else 0.0, colour=colour_of(tally),
            overdue=overdue[compound_id]))
    return BoardOut(compounds=tiles)


# Officers -----------------------------------------------------------------------------------

def officers_report(user: User | None, zone_code: str | None = None) -> OfficersOut:
    """Per officer of the zones in view (and anyone else holding cases there): open cases,
    overdue ones, and cases done in the last 30 days."""
    require_reader(user)
    zones = zones_in_view(user, zone_code)
    now = clock.now()
    done_recently = and_(Case.state.in_([CaseState.CLOSED, CaseState.DISMISSED]),
                         Case.state_entered_at >= now - timedelta(days=DONE_RECENTLY_DAYS))
    figures = {officer_id: (int(open_), int(late), int(recent))
               for officer_id, open_, late, recent in db.session.execute(
                   scoped_cases(user, zones, zone_code)
                   .with_only_columns(Case.officer_id, count_where(is_open()),
                                      count_where(is_overdue(now)), count_where(done_recently))
                   .where(Case.officer_id.is_not(None))
                   .group_by(Case.officer_id))}
    attached = (select(user_zones.c.user_id)
                .where(user_zones.c.zone_id.in_([zone.id for zone in zones])))
    people = db.session.scalars(
        select(User).where(or_(and_(User.role == Role.OFFICER, User.active, User.id.in_(attached)),
                               User.id.in_(list(figures))))
        .order_by(User.username))
    return OfficersOut(officers=[
        OfficerRow(user=UserRef(id=person.id, username=person.username,
                                display_name=person.display_name),
                   open=figures.get(person.id, (0, 0, 0))[0],
                   overdue=figures.get(person.id, (0, 0, 0))[1],
                   done_last_30_days=figures.get(person.id, (0, 0, 0))[2])
        for person in people])
