"""Everything that changes a case: creating, editing and firing lifecycle triggers.

Each operation checks its rules, changes the rows, appends the event and flushes; the request
or task that called it commits once.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from casework import clock
from casework.accounts.models import Role, User
from casework.accounts.queries import zone_supervisors
from casework.cases import lifecycle, policies
from casework.cases.history import record_event, record_first_events
from casework.cases.models import Case, CaseEvent, CaseRefCounter, CaseState
from casework.cases.queries import allowed_triggers
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
    values = [dict(fields, ref=ref, compound_id=compound.id, zone_id=compound.zone_id,
                   officer_id=officer_id, created_by_id=user.id, state=lifecycle.INITIAL_STATE,
                   state_entered_at=entered, due_at=due_at, version=1)
              for ref, (compound, officer_id, fields) in zip(reserve_refs(len(prepared)),
                                                             prepared)]
    # One ORM bulk INSERT ... RETURNING: the cases come back as persistent objects.
    cases = list(db.session.scalars(insert(Case).returning(Case, sort_by_parameter_order=True),
                                    values))
    record_first_events([(case, {"kind": case.kind.value, "compound_id": case.compound_id})
                         for case in cases], "create", user)
    return cases


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


def _enforcement_approved(case: Case) -> bool:
    """An approve_enforcement counts only if it came after the case last entered negotiated,
    so a reopened case needs a fresh approval."""
    events = db.session.execute(
        select(CaseEvent.trigger, CaseEvent.from_state, CaseEvent.to_state)
        .where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).all()
    approved = False
    for trigger, from_state, to_state in events:
        if to_state == CaseState.NEGOTIATED.value and from_state != CaseState.NEGOTIATED.value:
            approved = False
        elif trigger == "approve_enforcement":
            approved = True
    return approved


def guard_input(case: Case, note: str, deadline: date | None, method: str | None
                ) -> lifecycle.GuardInput:
    # Read afresh: files and work orders are added by other operations, maybe in this session.
    db.session.expire(case, ["attachments", "workorders"])
    kinds = frozenset(a.kind for a in case.attachments if a.workorder_id is None)
    open_workorders = sum(1 for order in case.workorders if not order.state.is_final)
    return lifecycle.GuardInput(
        state=case.state, owner_name=case.owner_name, owner_unknown=case.owner_unknown,
        due_at=case.due_at, attachment_kinds=kinds,
        enforcement_approved=_enforcement_approved(case), open_workorders=open_workorders,
        note=note or "",
        deadline=deadline, method=method, now=clock.now(), today=clock.local_today(),
        max_deadline_days=setting("CASEWORK_MAX_DEADLINE_DAYS"),
    )


def _require_visible(user: User, case: Case) -> None:
    """A case outside the user's zones does not exist for them (404, as the API answers)."""
    if not policies.can_see(user, case):
        raise NotFound("No such case.")


def fire_trigger(case: Case, user: User, trigger_name: str, *, expected_version: int,
                 note: str = "", deadline: date | None = None, method: str | None = None
                 ) -> CaseEvent:
    """Fires a lifecycle trigger on a case the caller holds locked (``get_visible_case(...,
    for_update=True)``); returns the event written to its history."""
    _require_visible(user, case)

    def record_history(trigger: Trigger, from_state: CaseState, given) -> CaseEvent:
        data: dict[str, Any] = {"due_at": case.due_at.isoformat() if case.due_at else None}
        if deadline is not None and "deadline" in trigger.fields:
            data["deadline"] = deadline.isoformat()
        if method is not None and "method" in trigger.fields:
            data["method"] = method
        return record_event(case, trigger.name, from_state.value, user, note=note, data=data)

    def notify(trigger: Trigger, recipients: Notify, from_state: CaseState) -> None:
        _notify(case, trigger, user, recipients, from_state, note)

    return fire(lifecycle.LIFECYCLE, case, user, trigger_name, expected_version=expected_version,
                firing=Firing(allowed=lambda: allowed_triggers(case, user),
                              guard_input=lambda trigger: guard_input(case, note, deadline,
                                                                      method),
                              record_history=record_history, notify=notify))


def _notify(case: Case, trigger: Trigger, actor: User, recipients: Notify,
            from_state: CaseState, note: str) -> None:
    """Tells the people the declaration names (never the one who acted), in this transaction."""
    users: list[User] = []
    if recipients is Notify.officer and case.officer is not None:
        users.append(case.officer)
    if recipients is Notify.supervisors:
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
