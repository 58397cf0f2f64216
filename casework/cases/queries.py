"""Reading cases as a given user may see them (spec section 8: 404 for what they may not)."""
from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Select, false, func, literal_column, or_, select

from casework import clock
from casework.accounts.models import Role, User
from casework.cases import lifecycle, policies
from casework.cases.models import Case, CaseEvent
from casework.cases.schemas import CaseQuery
from casework.common.paging import Keyset
from casework.common.policy import require
from casework.common.queries import one_or_404, overdue_filter
from casework.extensions import db
from casework.places.models import Zone

FINAL_STATES = sorted(lifecycle.LIFECYCLE.final)
# The case list's order, newest first; its cursors hold (created_at, id).
CASE_ORDER = Keyset("cases", (Case.created_at, Case.id))
# A case's history, oldest first; its cursors hold the step's number.
EVENT_ORDER = Keyset("events", (CaseEvent.seq,), descending=False)


def visible_cases(user: User) -> Select:
    query = select(Case)
    if user.role is Role.COMPANY:
        return query.where(false())
    if not user.sees_whole_district:
        query = query.where(Case.zone_id.in_(user.zone_ids))
    return query


def get_visible_case(user: User, case_id: int, *, for_update: bool = False) -> Case:
    """The case, or 404 when it does not exist for this user; ``for_update`` locks it for a
    change (concurrent transitions of one case then queue, and the loser gets 409)."""
    return one_or_404(visible_cases(user).where(Case.id == case_id), "No such case.",
                      lock=Case if for_update else None)


def filtered_cases(user: User, args: CaseQuery) -> Select:
    """The case list (a company user is refused: 403, as no case id is involved)."""
    require(policies.can_list_cases(user), "Company users see work orders, not cases.")
    query = visible_cases(user)
    if args.state:
        query = query.where(Case.state.in_(args.state))
    if args.zone:
        query = query.where(Case.zone_id == _zone_id(args.zone))
    if args.compound:
        query = query.where(Case.compound_id == args.compound)
    if args.kind:
        query = query.where(Case.kind == args.kind)
    if args.officer:
        query = query.where(Case.officer_id == args.officer)
    if args.overdue is not None:
        query = query.where(overdue_filter(Case.due_at, Case.state.not_in(FINAL_STATES),
                                           args.overdue, clock.now()))
    if args.q:
        # The words are searched literally: "98%" finds "98%", not every "98...".
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", args.q) + "%"
        columns = [Case.ref, Case.address, Case.description]
        if user.sees_personal_data:
            columns.append(Case.owner_name)
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in columns)))
        if len(args.q) >= 2 and db.session.get_bind().dialect.name == "postgresql":
            query = query.where(_bigram_candidates(args.q, user.sees_personal_data))
    return query.order_by(*CASE_ORDER.order_by())


# The searched text of a case as the GIN index ix_cases_search_bigrams (migration 0012) is
# made of, written the same way so that PostgreSQL's planner recognises it.
_SEARCHED_TEXT = (Case.ref + literal_column("' '") + Case.address + literal_column("' '")
                  + Case.description)


def _bigram_candidates(words: str, owners: bool) -> ColumnElement[bool]:
    """On PostgreSQL, the cases whose text holds every pair of adjacent characters of the
    searched words, found in a GIN index (pg_trgm cannot index a two-character Chinese word).
    It is a superset of what the ILIKE beside it keeps, so the results are exactly the
    ILIKE's, only found without reading every case."""
    wanted = func.casework_bigrams(words)
    found = func.casework_bigrams(_SEARCHED_TEXT).op("@>", is_comparison=True)(wanted)
    if owners:
        found = found | func.casework_bigrams(Case.owner_name).op("@>", is_comparison=True)(wanted)
    return found


def _zone_id(zone: str) -> int | None:
    """A zone named by its code or, failing that, by its id. A code that looks like a number
    is still a code first, so ``zone=2`` never mixes two zones' cases."""
    zone_id = db.session.scalar(select(Zone.id).where(Zone.code == zone))
    if zone_id is None and zone.isascii() and zone.isdigit() and len(zone) <= 9:
        zone_id = int(zone)
    return zone_id


def allowed_triggers(case: Case, user: User) -> list[str]:
    """The triggers this user may fire from the case's state (guards are checked on firing)."""
    return lifecycle.LIFECYCLE.allowed(case.state, user.role)


def case_events(case: Case) -> list[CaseEvent]:
    """The case's history, oldest first."""
    return list(db.session.scalars(history_of(case)))


def history_of(case: Case) -> Select:
    return select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(*EVENT_ORDER.order_by())


def lock_case(case_id: int) -> Case:
    """The case, locked until commit, for a change that appends to its history from another
    record (a work order): the history's sequence numbers stay in order."""
    return db.session.scalar(select(Case).where(Case.id == case_id).with_for_update(of=Case)
                             .execution_options(populate_existing=True))
