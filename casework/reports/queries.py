"""The backlog, the compound board and the officers' workload, each from grouped queries.

Every report costs the same few statements whatever the number of cases or compounds, and
none reads every case: the counts come from ``case_counts`` and ``case_closures``, which
triggers keep equal to a ``GROUP BY`` over the cases (``casework.cases.counts``), and the
figures that depend on the time (overdue, the oldest open case, done lately) from partial
indexes of the open and of the finished cases. A report covers the zones in view (the user's,
or one of them asked for; ``user=None`` is the trusted command line, which sees the whole
district), the same cases the lists show the user.

Words, as SPEC section 13 defines them: **done** is closed or dismissed; **open** is every
other state; **preparing** is identified or ownership verified; a case is **overdue** when it
is open and its deadline has passed (so late work still open counts as late, not only late
work that was finished).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy import Select, and_, func, literal_column, or_, select, union_all

from casework import clock
from casework.accounts.models import Role, User, user_zones
from casework.campaign.queries import can_read_campaign, zones_in_view
from casework.campaign.schemas import UserRef, ZoneRef
from casework.cases.counts import DONE_CASE, NO_OFFICER, OPEN_CASE, CaseClosure, CaseCount
from casework.cases.models import Case, CaseKind, CaseState
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


def zone_ids_of(zones: list[Zone]) -> list[int]:
    return [zone.id for zone in zones]


def overdue_cases(zone_ids: list[int], now: datetime) -> Select:
    """The open cases of these zones whose deadline has passed, read from the partial index
    of the open cases (``ix_cases_open_due``: an index-only scan)."""
    return (select(func.count()).select_from(Case)
            .where(Case.zone_id.in_(zone_ids), OPEN_CASE, Case.due_at <= now))


def counted(zone_ids: list[int]) -> Select:
    """The kept counts of these zones' cases (``case_counts``), to be grouped."""
    return select(func.sum(CaseCount.n)).where(CaseCount.zone_id.in_(zone_ids))


def zone_ref(zone: Zone) -> ZoneRef:
    return ZoneRef(id=zone.id, code=zone.code, name=zone.name)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def tagged(tag: str):
    """A constant column naming what a row of a ``UNION ALL`` counts."""
    return literal_column(f"'{tag}'")


def done_in_window(zone_ids: list[int], states: list[CaseState], since: datetime, tag: str,
                   *, strict: bool, by) -> list[Select]:
    """Cases of these zones that entered one of ``states`` at or after ``since`` (after it
    when ``strict``), as (``by``, ``tag``, count) rows, where ``by(table)`` is the same column
    of ``case_closures`` and of ``cases``: the whole hours from the kept closures, the part of
    ``since``'s hour from the index of finished cases. Two selects, to be joined by
    ``UNION ALL`` and summed."""
    first_whole_hour = floor_hour(since) + timedelta(hours=1)
    hours = (select(by(CaseClosure), tagged(tag), func.sum(CaseClosure.n))
             .where(CaseClosure.zone_id.in_(zone_ids),
                    CaseClosure.state.in_([state.value for state in states]),
                    CaseClosure.hour >= first_whole_hour)
             .group_by(by(CaseClosure)))
    lower = Case.state_entered_at > since if strict else Case.state_entered_at >= since
    part = (select(by(Case), tagged(tag), func.count())
            .where(DONE_CASE, Case.state.in_(states), Case.zone_id.in_(zone_ids), lower,
                   Case.state_entered_at < first_whole_hour)
            .group_by(by(Case)))
    return [hours, part]


# Backlog ------------------------------------------------------------------------------------

class _BacklogTally:
    def __init__(self) -> None:
        self.states = dict.fromkeys(STATES, 0)
        self.overdue = 0
        self.oldest: dict[str, datetime | None] = dict.fromkeys(OPEN)
        self.by_kind = {kind: dict.fromkeys(STATES, 0) for kind in KINDS}
        self.open_by_difficulty = dict.fromkeys(DIFFICULTIES, 0)

    def add(self, state: str, kind: str, difficulty: int, count: int) -> None:
        self.states[state] += count
        self.by_kind[kind][state] += count
        if state not in DONE:
            self.open_by_difficulty[str(difficulty)] += count

    def first_created(self, state: str, first: datetime | None) -> None:
        if first is not None and (self.oldest[state] is None or first < self.oldest[state]):
            self.oldest[state] = first

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


def _oldest_open(state: str):
    """The creation time of the zone's oldest open case in ``state``: the first entry of its
    range in ``ix_cases_open_created``."""
    return (select(func.min(Case.created_at))
            .where(Case.zone_id == Zone.id, Case.state == CaseState(state), OPEN_CASE)
            .scalar_subquery())


def backlog_report(user: User | None, zone_code: str | None = None) -> BacklogOut:
    """Cases by zone × state × kind, overdue, the oldest open case's age per state and the
    open cases per difficulty (先易后难: the easy ones first)."""
    require_reader(user)
    zones = zones_in_view(user, zone_code)
    zone_ids = zone_ids_of(zones)
    now = clock.now()
    tallies = {zone.id: _BacklogTally() for zone in zones}
    total = _BacklogTally()
    key = (CaseCount.zone_id, CaseCount.state, CaseCount.kind, CaseCount.difficulty)
    for zone_id, state, kind, difficulty, count in db.session.execute(
            counted(zone_ids).with_only_columns(*key, func.sum(CaseCount.n)).group_by(*key)):
        for tally in (tallies[zone_id], total):
            tally.add(state, kind, difficulty, int(count))
    for zone_id, count in db.session.execute(
            overdue_cases(zone_ids, now).with_only_columns(Case.zone_id, func.count())
            .group_by(Case.zone_id)):
        tallies[zone_id].overdue += int(count)
        total.overdue += int(count)
    for zone_id, *firsts in db.session.execute(
            select(Zone.id, *(_oldest_open(state) for state in OPEN))
            .where(Zone.id.in_(zone_ids))):
        for state, first in zip(OPEN, firsts):
            for tally in (tallies[zone_id], total):
                tally.first_created(state, first)
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


def compounds_in_view(user: User | None, zone_code: str | None = None) -> int:
    """How many compounds the board of ``user`` (or of one of their zones) would show."""
    require_reader(user)
    zone_ids = zone_ids_of(zones_in_view(user, zone_code))
    return db.session.scalar(select(func.count()).select_from(Compound)
                             .where(Compound.zone_id.in_(zone_ids)))


def board_report(user: User | None, zone_code: str | None = None) -> BoardOut:
    """Every compound in view as a tile: counts by state, done, its colour and overdue mark."""
    require_reader(user)
    zones = zones_in_view(user, zone_code)
    zone_ids = zone_ids_of(zones)
    now = clock.now()
    compounds = db.session.execute(
        select(Compound.id, Compound.zone_id, Compound.name)
        .join(Zone, Zone.id == Compound.zone_id)
        .where(Compound.zone_id.in_(zone_ids))
        .order_by(Zone.code, Compound.name, Compound.id)).all()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    for compound_id, state, count in db.session.execute(
            counted(zone_ids)
            .with_only_columns(CaseCount.compound_id, CaseCount.state, func.sum(CaseCount.n))
            .group_by(CaseCount.compound_id, CaseCount.state)):
        counts[compound_id][state] += int(count)
    overdue = {compound_id: int(late) for compound_id, late in db.session.execute(
        overdue_cases(zone_ids, now).with_only_columns(Case.compound_id, func.count())
        .group_by(Case.compound_id))}
    tiles = []
    for compound_id, zone_id, name in compounds:
        tally = counts[compound_id]
        total = sum(tally.values())
        done = sum(tally[state] for state in DONE)
        tiles.append(BoardCompound(
            id=compound_id, zone_id=zone_id, name=name, counts=tally, total=total, done=done,
            done_pct=round(100 * done / total, 1) if total else 0.0, colour=colour_of(tally),
            overdue=overdue.get(compound_id, 0)))
    return BoardOut(compounds=tiles)


# Officers -----------------------------------------------------------------------------------

def officers_report(user: User | None, zone_code: str | None = None) -> OfficersOut:
    """Per officer of the zones in view (and anyone else holding cases there): open cases,
    overdue ones, and cases done in the last 30 days."""
    require_reader(user)
    zones = zones_in_view(user, zone_code)
    zone_ids = zone_ids_of(zones)
    now = clock.now()
    # One statement: (officer, what, count) rows from the kept counts, the open cases' index
    # and the finished cases of the last 30 days.
    figures: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        ("cases", "open", "overdue", "done_last_30_days"), 0))
    parts = [
        counted(zone_ids).with_only_columns(CaseCount.officer_id, tagged("cases"),
                                            func.sum(CaseCount.n))
        .where(CaseCount.officer_id != NO_OFFICER).group_by(CaseCount.officer_id),
        counted(zone_ids).with_only_columns(CaseCount.officer_id, tagged("open"),
                                            func.sum(CaseCount.n))
        .where(CaseCount.officer_id != NO_OFFICER, CaseCount.state.in_(OPEN))
        .group_by(CaseCount.officer_id),
        overdue_cases(zone_ids, now).with_only_columns(Case.officer_id, tagged("overdue"),
                                                       func.count())
        .where(Case.officer_id.is_not(None)).group_by(Case.officer_id),
        *done_in_window(zone_ids, [CaseState.CLOSED, CaseState.DISMISSED],
                        now - timedelta(days=DONE_RECENTLY_DAYS), "done_last_30_days",
                        strict=False, by=lambda table: table.officer_id),
    ]
    for officer_id, what, count in db.session.execute(union_all(*parts)):
        if officer_id not in (None, NO_OFFICER):
            figures[officer_id][what] += int(count)
    holding = [officer_id for officer_id, counts in figures.items() if counts["cases"] > 0]
    attached = (select(user_zones.c.user_id)
                .where(user_zones.c.zone_id.in_(zone_ids)))
    people = db.session.scalars(
        select(User).where(or_(and_(User.role == Role.OFFICER, User.active, User.id.in_(attached)),
                               User.id.in_(holding)))
        .order_by(User.username))
    return OfficersOut(officers=[
        OfficerRow(user=UserRef(id=person.id, username=person.username,
                                display_name=person.display_name),
                   open=figures[person.id]["open"], overdue=figures[person.id]["overdue"],
                   done_last_30_days=figures[person.id]["done_last_30_days"])
        for person in people])
