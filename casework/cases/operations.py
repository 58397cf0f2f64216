"""Everything that changes a case: creating, editing and firing lifecycle triggers.

Each operation checks its rules, changes the rows, appends the event and flushes; the request
or task that called it commits once.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased, joinedload

from casework import clock
from casework.accounts.models import Role, User
from casework.accounts.queries import zone_supervisors
from casework.cases import lifecycle, policies
from casework.cases.history import record_event, record_first_events
from casework.cases.models import AttachmentKind, Case, CaseEvent, CaseRefCounter, CaseState
from casework.cases.queries import allowed_triggers, visible_cases
from casework.cases.schemas import PERSONAL_FIELDS
from casework.common.errors import Conflict, NotFound, ValidationFailed, problem
from casework.common.lifecycle import Firing, Notify, Trigger, check_version, fire
from casework.common.policy import require
from casework.extensions import db
from casework.notifications.models import NotificationKind
from casework.notifications.operations import notify_users
from casework.places.models import Compound
from casework.settings import setting, settings


def next_ref() -> str:
    """The next reference of the current year, DA-2026-000123."""
    return reserve_refs(1)[0]


def reserve_refs(count: int) -> list[str]:
    """The next ``count`` references of the current year, from a per-year counter row whose
    update serialises concurrent creations."""
    year = clock.now().astimezone(clock.local_zone()).year
    upsert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(upsert(CaseRefCounter).values(year=year, last=0)
                       .on_conflict_do_nothing(index_elements=["year"]))
    last = db.session.execute(update(CaseRefCounter).where(CaseRefCounter.year == year)
                              .values(last=CaseRefCounter.last + count)
                              .returning(CaseRefCounter.last)).scalar_one()
    prefix = setting("CASEWORK_REF_PREFIX")
    return [f"{prefix}-{year}-{number:06d}" for number in range(last - count + 1, last + 1)]


def _visible_compound(user: User, compound_id: int) -> Compound:
    compound = db.session.get(Compound, compound_id)
    if compound is None or not user.can_see_zone(compound.zone_id):
        raise ValidationFailed("The compound does not exist.",
                               [problem("compound_id", "exists",
                                        "No such compound in your zones.")])
    return compound


def _check_officer(officer_id: int, zone_id: int) -> User:
    officer = db.session.get(User, officer_id)
    if (officer is None or not officer.active or officer.role is not Role.OFFICER
            or zone_id not in officer.zone_ids):
        raise ValidationFailed("The officer cannot be assigned.",
                               [problem("officer_id", "officer_in_zone",
                                         "Assign an active officer of the case's zone.")])
    return officer


def create_case(user: User, fields: dict[str, Any]) -> Case:
    return create_cases(user, [fields])[0]


def create_cases(user: User, rows: list[dict[str, Any]]) -> list[Case]:
    """Records new cases, each in ``identified`` with the initial deadline and a first
    ``create`` event. Many at once (a survey import) cost a few batched statements, not
    five per case; one at a time is the same code."""
    require(policies.can_record_cases(user),
            "Only officers, supervisors and admins record cases.")
    if not rows:
        return []
    compounds: dict[int, Compound] = {}
    officers: set[tuple[int, int]] = set()
    prepared = []
    for fields in rows:
        fields = dict(fields)
        compound_id = fields.pop("compound_id")
        if compound_id not in compounds:
            compounds[compound_id] = _visible_compound(user, compound_id)
        compound = compounds[compound_id]
        officer_id = fields.pop("officer_id", None)
        if officer_id is None and user.role is Role.OFFICER:
            officer_id = user.id
        if officer_id is not None and (officer_id, compound.zone_id) not in officers:
            _check_officer(officer_id, compound.zone_id)
            officers.add((officer_id, compound.zone_id))
        prepared.append((compound, officer_id, fields))
    entered = clock.now()
    due_at = lifecycle.LIFECYCLE.initial_deadline.due_at(None, None, entered, settings())
    refs = reserve_refs(len(prepared))
    values = [dict(fields, ref=ref, compound_id=compound.id, zone_id=compound.zone_id,
                   officer_id=officer_id, created_by_id=user.id, state=lifecycle.INITIAL_STATE,
                   state_entered_at=entered, due_at=due_at, version=1)
              for ref, (compound, officer_id, fields) in zip(refs, prepared)]
    _insert_cases(values)
    # The cases come back by the references just reserved, as persistent objects, in order.
    by_ref = {case.ref: case for case in db.session.scalars(select(Case).where(Case.ref.in_(refs)))}
    cases = [by_ref[ref] for ref in refs]
    record_first_events([(case, {"kind": case.kind.value, "compound_id": case.compound_id})
                         for case in cases], "create", user)
    return cases


def _insert_cases(values: list[dict[str, Any]]) -> None:
    """Many new cases in one statement. On PostgreSQL the rows go as one JSON parameter
    (``json_populate_recordset``): one set-based INSERT, so the indexes and the report counts'
    trigger work once per batch, and the driver has one parameter to bind rather than a
    multi-row VALUES of thousands (which it re-parses for every batch: most of a large
    import's time). Elsewhere an ORM bulk INSERT (an executemany)."""
    if db.engine.dialect.name != "postgresql":
        db.session.execute(insert(Case), values)
        return
    table = Case.__table__
    defaults = {column.name: column.default for column in table.columns
                if column.default is not None and not column.primary_key}
    names = sorted({name for row in values for name in row} | set(defaults))
    rows = []
    for row in values:
        record = {}
        for name in names:
            if name in row or name not in defaults:
                value = row.get(name)
            else:
                value = defaults[name].arg(None) if defaults[name].is_callable \
                    else defaults[name].arg
            record[name] = _jsonable(value.isoformat() if isinstance(value, datetime) else value)
        rows.append(record)
    columns = ", ".join(names)
    db.session.execute(
        text(f"INSERT INTO cases ({columns}) SELECT {columns} "
             "FROM json_populate_recordset(NULL::cases, :rows)"),
        {"rows": json.dumps(rows, ensure_ascii=False)})


def edit_case(case: Case, user: User, expected_version: int, changes: dict[str, Any]) -> Case:
    _require_visible(user, case)
    require(policies.can_edit(user, case), "Only officers and supervisors edit cases.")
    check_version(case, expected_version)
    if case.state.is_final:
        raise Conflict(f"A {case.state.value} case cannot be edited; a supervisor can reopen it.",
                       code="case_final")
    if "compound_id" in changes:
        compound = _visible_compound(user, changes["compound_id"])
        changes["zone_id"] = compound.zone_id
    zone_id = changes.get("zone_id", case.zone_id)
    officer_id = changes.get("officer_id", case.officer_id)
    # A case moved to another zone cannot keep an officer who may not see that zone.
    if officer_id is not None and ("officer_id" in changes or zone_id != case.zone_id):
        _check_officer(officer_id, zone_id)
    changed = {name: value for name, value in changes.items() if getattr(case, name) != value}
    if not changed:
        return case
    recorded = {}
    for name, value in changed.items():
        # Personal data stays in its columns; the history names the field, not the value.
        recorded[name] = None if name in PERSONAL_FIELDS else _jsonable(value)
        setattr(case, name, value)
    record_event(case, "edit", case.state.value, user, data={"changed": recorded})
    return case


def _jsonable(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


@dataclass(frozen=True)
class GuardFacts:
    """What the guards read beyond the case's own columns: the kinds of the case's own files,
    its open work orders, and whether enforcement was approved since the case last entered
    negotiated (so that a reopened case needs a fresh approval)."""

    attachment_kinds: frozenset[AttachmentKind]
    open_workorders: int
    enforcement_approved: bool

    @classmethod
    def from_row(cls, values) -> GuardFacts:
        *kinds, open_workorders, approved = values
        return cls(frozenset(kind for kind, has in zip(AttachmentKind, kinds) if has),
                   open_workorders, bool(approved))


@functools.cache
def _guard_fact_columns() -> tuple[ColumnElement, ...]:
    """The facts as columns correlated to ``Case``, so that the statement that locks a case
    also reads them; built once, as SQLAlchemy then finds the statement's compiled form in its
    cache instead of building it again. Files and work orders are reached through the case's relationships:
    their domains depend on cases, not the reverse."""
    attachment = Case.attachments.property.mapper.class_
    order = Case.workorders.property.mapper.class_
    own_file = (attachment.case_id == Case.id) & attachment.workorder_id.is_(None)
    kinds = [exists().where(own_file, attachment.kind == kind) for kind in AttachmentKind]
    finished = [state for state in order.state.type.enum_class if state.is_final]
    open_workorders = (select(func.count()).where(order.case_id == Case.id,
                                                  order.state.not_in(finished))
                       .scalar_subquery())
    negotiated = CaseState.NEGOTIATED.value
    entered = aliased(CaseEvent)
    last_entered = (select(func.coalesce(func.max(entered.seq), 0))
                    .where(entered.case_id == Case.id, entered.to_state == negotiated,
                           or_(entered.from_state.is_(None), entered.from_state != negotiated))
                    .correlate(Case).scalar_subquery())
    approved = exists().where(CaseEvent.case_id == Case.id,
                              CaseEvent.trigger == "approve_enforcement",
                              CaseEvent.seq > last_entered)
    return (*kinds, open_workorders, approved)


def guard_facts(case: Case) -> GuardFacts:
    """The facts read afresh (files and work orders may have been added in this session)."""
    return GuardFacts.from_row(db.session.execute(
        select(*_guard_fact_columns()).select_from(Case).where(Case.id == case.id)).one())


def enforcement_approvals(case_ids: list[int]) -> set[int]:
    """The cases among ``case_ids`` whose enforcement is approved, by the guards' own rule, in
    one statement (a desk of cards asks for all of them at once)."""
    if not case_ids:
        return set()
    approved = _guard_fact_columns()[-1]
    return set(db.session.scalars(select(Case.id).where(Case.id.in_(case_ids), approved)))


def case_to_fire(user: User, case_id: int) -> tuple[Case, GuardFacts]:
    """The case locked for a transition (concurrent transitions of one case queue, and the
    loser gets 409), with its compound, its officer and its guards' facts: one statement."""
    row = db.session.execute(
        visible_cases(user).where(Case.id == case_id).add_columns(*_guard_fact_columns())
        .options(joinedload(Case.compound), joinedload(Case.officer))
        .with_for_update(of=Case).execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("No such case.")
    return row[0], GuardFacts.from_row(row[1:])


def guard_input(case: Case, note: str, deadline: date | None, method: str | None,
                facts: GuardFacts | None = None) -> lifecycle.GuardInput:
    facts = facts or guard_facts(case)
    return lifecycle.GuardInput(
        state=case.state, owner_name=case.owner_name, owner_unknown=case.owner_unknown,
        due_at=case.due_at, attachment_kinds=facts.attachment_kinds,
        enforcement_approved=facts.enforcement_approved,
        open_workorders=facts.open_workorders, note=note or "",
        deadline=deadline, method=method, now=clock.now(), today=clock.local_today(),
        max_deadline_days=setting("CASEWORK_MAX_DEADLINE_DAYS"),
    )


def _require_visible(user: User, case: Case) -> None:
    """A case outside the user's zones does not exist for them (404, as the API answers)."""
    if not policies.can_see(user, case):
        raise NotFound("No such case.")


def fire_trigger(case: Case, user: User, trigger_name: str, *, expected_version: int,
                 note: str = "", deadline: date | None = None, method: str | None = None,
                 facts: GuardFacts | None = None) -> CaseEvent:
    """Fires a lifecycle trigger on a case the caller holds locked (``case_to_fire``, which
    also gives the guards' ``facts``, or ``get_visible_case(..., for_update=True)``); returns
    the event written to its history."""
    _require_visible(user, case)

    def record_history(trigger: Trigger, from_state: CaseState, given) -> CaseEvent:
        data: dict[str, Any] = {"due_at": case.due_at.isoformat() if case.due_at else None}
        if deadline is not None and "deadline" in trigger.fields:
            data["deadline"] = deadline.isoformat()
        if method is not None and "method" in trigger.fields:
            data["method"] = method
        return record_event(case, trigger.name, from_state.value, user, note=note, data=data)

    def notify(trigger: Trigger, recipients: tuple[Notify, ...], from_state: CaseState) -> None:
        _notify(case, trigger, user, recipients, from_state, note)

    return fire(lifecycle.LIFECYCLE, case, user, trigger_name, expected_version=expected_version,
                firing=Firing(allowed=lambda: allowed_triggers(case, user),
                              guard_input=lambda trigger: guard_input(case, note, deadline,
                                                                      method, facts),
                              record_history=record_history, notify=notify))


def _notify(case: Case, trigger: Trigger, actor: User, recipients: tuple[Notify, ...],
            from_state: CaseState, note: str) -> None:
    """Tells the people the declaration names (never the one who acted), in this transaction,
    all in one batch of rows."""
    users: list[User] = []
    if Notify.officer in recipients and case.officer is not None:
        users.append(case.officer)
    if Notify.supervisors in recipients:
        users.extend(zone_supervisors(case.zone_id))
    users = [u for u in users if u.id != actor.id]
    if not users:
        return
    context = {
        "case": {"ref": case.ref, "address": case.address}, "compound": case.compound.name,
        "trigger": trigger.name, "trigger_title": trigger.title, "actor": actor.display_name,
        "from_state": from_state.value, "to_state": case.state.value,
        "from_title": from_state.title, "to_title": case.state.title, "note": note,
        "due_at": case.due_at.astimezone(clock.local_zone()).strftime("%Y-%m-%d %H:%M")
        if case.due_at else None,
    }
    notify_users(users, NotificationKind.TRANSITION, context, case_id=case.id)
