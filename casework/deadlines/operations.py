"""The deadline sweep and the morning digest (spec section 5).

The sweep reads only what has an alert to raise now: cases and work orders whose ``due_at`` is
within the reminder window or past, through the ``due_at`` indexes, leaving out (in the query,
by the alerts' unique key) those whose alerts for this deadline and this moment are all raised,
so a sweep with nothing to do loads no rows. Each alert is claimed by inserting its unique key
(subject, deadline, kind); only the sweep whose insert succeeds writes the notifications, in
the same transaction, so two sweeps at once, or one that dies half way, never send twice.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from casework import clock
from casework.accounts.models import Role, User
from casework.cases.lifecycle import LIFECYCLE as CASE_LIFECYCLE
from casework.cases.models import Case, CaseEvent
from casework.deadlines.models import Alert
from casework.extensions import db
from casework.notifications.models import NotificationKind
from casework.notifications.operations import Outbox, notify_users
from casework.settings import setting
from casework.workorders.models import DEADLINE_STATES, WorkOrder, workorder_payload

CASE_FINAL = sorted(CASE_LIFECYCLE.final)
K = NotificationKind
DIGEST_LINES = 20
OUTBOX_BATCH = 5000
# Due cases or work orders read at once: the sweep's memory is one chunk's, however much is due.
SWEEP_CHUNK = 2000


@dataclass
class SweepReport:
    raised: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.raised[kind] = self.raised.get(kind, 0) + 1


def _insert():
    return pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert


def raise_alert(subject: str, subject_id: int, occasion: datetime, kind: str) -> bool:
    """Records the alert unless it exists; True only for the one caller that recorded it."""
    inserted = db.session.execute(
        _insert()(Alert).values(subject=subject, subject_id=subject_id, occasion=occasion,
                                kind=kind, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["subject", "subject_id", "occasion", "kind"])
        .returning(Alert.id)).scalar_one_or_none()
    return inserted is not None


ALERT_CHUNK = 2000


def raise_alerts(keys: list[tuple[str, int, datetime, str]]) -> set[tuple[str, int, str]]:
    """Records the alerts among ``keys`` (subject, id, occasion, kind) that do not exist yet, a
    few thousand per statement, and returns (subject, id, kind) of those this caller recorded.
    The keys go in in one order, (subject, occasion, id, kind), the order in which the sweep
    reads its chunks too, so two sweeps at once wait for each other on PostgreSQL rather than
    deadlock; each key is recorded by exactly one of them."""
    claimed: set[tuple[str, int, str]] = set()
    keys = sorted(set(keys), key=lambda key: (key[0], key[2], key[1], key[3]))
    now = clock.now()
    if db.engine.dialect.name == "postgresql":
        # Every key in one statement: four arrays unnested in the keys' order.
        subjects, ids, occasions, kinds = (list(column) for column in zip(*keys)) if keys else ([],) * 4
        claimed.update(tuple(row) for row in db.session.execute(text(
            "INSERT INTO alerts (subject, subject_id, occasion, kind, created_at) "
            "SELECT subject, subject_id, occasion, kind, :now FROM unnest("
            "CAST(:subjects AS varchar[]), CAST(:ids AS integer[]), "
            "CAST(:occasions AS timestamptz[]), CAST(:kinds AS varchar[])) "
            "WITH ORDINALITY AS key(subject, subject_id, occasion, kind, position) "
            "ORDER BY position "
            "ON CONFLICT (subject, subject_id, occasion, kind) DO NOTHING "
            "RETURNING subject, subject_id, kind"),
            {"now": now, "subjects": subjects, "ids": ids, "occasions": occasions,
             "kinds": kinds}))
        return claimed
    # SQLite: one statement, compiled once, that SQLAlchemy sends as a multi-row insert per
    # ALERT_CHUNK keys (its "insertmanyvalues"), in the keys' order.
    claim = (sqlite_insert(Alert.__table__)
             .on_conflict_do_nothing(index_elements=["subject", "subject_id", "occasion", "kind"])
             .returning(Alert.subject, Alert.subject_id, Alert.kind)
             .execution_options(insertmanyvalues_page_size=ALERT_CHUNK))
    rows = [{"subject": subject, "subject_id": subject_id, "occasion": occasion, "kind": kind,
             "created_at": now} for subject, subject_id, occasion, kind in keys]
    if rows:
        claimed.update(tuple(row) for row in db.session.connection().execute(claim, rows))
    return claimed


def _local(moment: datetime) -> str:
    return moment.astimezone(clock.local_zone()).strftime("%Y-%m-%d %H:%M")


def _kinds_due(due_at: datetime, now: datetime) -> list[str]:
    if now < due_at:
        return [K.REMINDER.value]
    kinds = [K.OVERDUE.value, K.ESCALATION.value]
    if now >= due_at + timedelta(days=setting("CASEWORK_SECOND_ESCALATION_DAYS")):
        kinds.append(K.SECOND_ESCALATION.value)
    return kinds


def _alert_pending(subject: str, id_column, due_column, now: datetime):
    """True for an item with an alert that ``_kinds_due`` says is due now and that has not been
    raised for this deadline. Without it, every item in its reminder window or waiting for its
    second escalation would be loaded, and its alerts re-inserted in vain, on every sweep."""
    def missing(kind: NotificationKind):
        return ~exists().where(Alert.subject == subject, Alert.subject_id == id_column,
                               Alert.occasion == due_column, Alert.kind == kind.value)

    second = now - timedelta(days=setting("CASEWORK_SECOND_ESCALATION_DAYS"))
    return or_(and_(due_column > now, missing(K.REMINDER)),
               and_(due_column <= now, or_(missing(K.OVERDUE), missing(K.ESCALATION))),
               and_(due_column <= second, missing(K.SECOND_ESCALATION)))


def due_cases(now: datetime):
    horizon = now + timedelta(hours=setting("CASEWORK_REMINDER_HOURS"))
    # Ordered by a unique key: two sweeps at once then meet each alert's key in the same
    # order, so on PostgreSQL one waits for the other instead of deadlocking.
    return (select(Case).where(Case.due_at <= horizon, Case.state.not_in(CASE_FINAL),
                               _alert_pending("case", Case.id, Case.due_at, now))
            .order_by(Case.due_at, Case.id))


def due_workorders(now: datetime):
    horizon = now + timedelta(hours=setting("CASEWORK_REMINDER_HOURS"))
    return (select(WorkOrder).where(WorkOrder.due_at <= horizon,
                                    WorkOrder.state.in_(DEADLINE_STATES),
                                    _alert_pending("workorder", WorkOrder.id, WorkOrder.due_at,
                                                   now))
            .order_by(WorkOrder.due_at, WorkOrder.id))


def _case_context(case: Case, now: datetime) -> dict:
    return {
        "subject_label": case.ref, "address": case.address, "compound": case.compound.name,
        "zone": case.zone.name, "due_at": _local(case.due_at), "state": case.state.value,
        "state_title": case.state.title,
        "assignee": case.officer.display_name if case.officer else "-",
        "days_late": setting("CASEWORK_SECOND_ESCALATION_DAYS"),
    }


def _supervisors_by_zone() -> Callable[[int], list[User]]:
    """Each zone's supervisors as ``zone_supervisors`` names them, from one query for the
    whole sweep: those of the zone, or when it has none the district's (those of no zone)."""
    supervisors = db.session.scalars(
        select(User).where(User.role == Role.SUPERVISOR, User.active.is_(True))
        .options(selectinload(User.zones)).order_by(User.id)).all()
    by_zone: dict[int, list[User]] = {}
    for user in supervisors:
        for zone in user.zones:
            by_zone.setdefault(zone.id, []).append(user)
    district = [user for user in supervisors if not user.zones]
    return lambda zone_id: by_zone.get(zone_id, district)


def _sweep_case(case: Case, now: datetime, claimed: set, report: SweepReport,
                supervisors_of: Callable[[int], list[User]], outbox: Outbox) -> None:
    kinds = [kind for kind in _kinds_due(case.due_at, now) if ("case", case.id, kind) in claimed]
    if not kinds:
        return
    context = _case_context(case, now)
    supervisors = supervisors_of(case.zone_id)
    # An unassigned case, or one whose officer has left, is the supervisors' to chase.
    assignees = [case.officer] if case.officer and case.officer.active else supervisors
    for kind in kinds:
        report.count(kind)
        recipients = assignees if kind in (K.REMINDER.value, K.OVERDUE.value) else supervisors
        outbox.users(recipients, K(kind), context, case_id=case.id)


def _sweep_workorder(order: WorkOrder, now: datetime, claimed: set, report: SweepReport,
                     supervisors_of: Callable[[int], list[User]], outbox: Outbox) -> None:
    kinds = [kind for kind in _kinds_due(order.due_at, now)
             if ("workorder", order.id, kind) in claimed]
    if not kinds:
        return
    case = order.case
    context = {**_case_context(case, now), "subject_label": f"WO-{order.id} ({case.ref})",
               "due_at": _local(order.due_at), "state": order.state.value,
               "state_title": order.state.title, "assignee": order.company.name}
    for kind in kinds:
        report.count(kind)
        if kind in (K.REMINDER.value, K.OVERDUE.value):
            payload = {"event": kind, **workorder_payload(order)}
            outbox.company(order.company, K(kind), context, payload, case_id=case.id,
                           workorder_id=order.id)
        else:
            outbox.users(supervisors_of(case.zone_id), K(kind), context, case_id=case.id,
                         workorder_id=order.id)


def _in_chunks(query: Select, model: type[Case] | type[WorkOrder]) -> Iterator[list]:
    """``query``'s rows (ordered by due_at, id) ``SWEEP_CHUNK`` at a time, each chunk read after
    the last one's final key: the sweep holds one chunk in memory, however much is due."""
    last = None
    while True:
        page = query
        if last is not None:
            due_at, row_id = last
            page = page.where(model.due_at >= due_at, tuple_(model.due_at, model.id) > tuple_(
                bindparam(None, due_at, type_=model.due_at.type),
                bindparam(None, row_id, type_=model.id.type)))
        rows = db.session.scalars(page.limit(SWEEP_CHUNK)).all()
        if rows:
            yield rows
        if len(rows) < SWEEP_CHUNK:
            return
        last = rows[-1].due_at, rows[-1].id


def sweep() -> SweepReport:
    """One pass over everything due; the caller commits.

    A few statements per ``SWEEP_CHUNK`` due cases or work orders, whatever the table's size:
    each chunk read with what its notifications name (a few queries), its alerts claimed in
    one insert, and the notifications of the claimed alerts written in one insert per
    ``OUTBOX_BATCH`` rows; the supervisors and each company's users are read once a sweep."""
    now = clock.now()
    report = SweepReport()
    outbox = Outbox()
    # Read once a sweep, and only by a sweep that raises something.
    supervisors_by_zone = functools.cache(_supervisors_by_zone)

    def supervisors_of(zone_id: int) -> list[User]:
        return supervisors_by_zone()(zone_id)

    def sweep_due(subject: str, query: Select, model: type[Case] | type[WorkOrder],
                  sweep_one: Callable) -> None:
        for chunk in _in_chunks(query, model):
            claimed = raise_alerts([(subject, row.id, row.due_at, kind)
                                    for row in chunk for kind in _kinds_due(row.due_at, now)])
            if not claimed:
                continue
            for row in chunk:
                sweep_one(row, now, claimed, report, supervisors_of, outbox)
                if len(outbox.rows) >= OUTBOX_BATCH:
                    outbox.write()

    sweep_due("case", due_cases(now).options(selectinload(Case.compound),
                                             selectinload(Case.zone), selectinload(Case.officer)),
              Case, _sweep_case)
    sweep_due("workorder", due_workorders(now).options(
        selectinload(WorkOrder.company),
        selectinload(WorkOrder.case).options(selectinload(Case.compound),
                                             selectinload(Case.zone),
                                             selectinload(Case.officer))),
              WorkOrder, _sweep_workorder)
    outbox.write()
    return report


def _digest_scope(user: User) -> tuple[list[int] | None, str]:
    if user.zones:
        return [z.id for z in user.zones], "、".join(z.name for z in user.zones)
    return None, "全区"


def send_digests() -> int:
    """This morning's digest for every supervisor, once per supervisor and day."""
    now = clock.now()
    zone = clock.local_zone()
    today = now.astimezone(zone).date()
    start_today = datetime.combine(today, datetime.min.time(), zone)
    start_yesterday = start_today - timedelta(days=1)
    sent = 0
    supervisors = db.session.scalars(select(User).where(User.role == Role.SUPERVISOR,
                                                        User.active.is_(True)).order_by(User.id))
    for user in supervisors:
        if not raise_alert("digest", user.id, start_today, K.DIGEST.value):
            continue
        zone_ids, scope = _digest_scope(user)
        in_scope = (lambda q: q) if zone_ids is None else (lambda q: q.where(Case.zone_id.in_(zone_ids)))
        new = db.session.scalar(in_scope(select(func.count()).select_from(Case).where(
            Case.created_at >= start_yesterday, Case.created_at < start_today)))
        late = (Case.due_at <= now) & Case.state.not_in(CASE_FINAL)
        overdue = db.session.scalar(in_scope(select(func.count()).select_from(Case).where(late)))
        # The twenty longest overdue are listed; the rest only counted.
        oldest_late = db.session.scalars(in_scope(
            select(Case).where(late).options(selectinload(Case.compound))
            .order_by(Case.due_at, Case.id).limit(DIGEST_LINES))).all()
        closed = db.session.scalar(in_scope(
            # Structures, not close events: one closed, reopened and closed again counts once.
            select(func.count(CaseEvent.case_id.distinct())).select_from(CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.trigger == "close", CaseEvent.at >= start_yesterday,
                   CaseEvent.at < start_today)))
        lines = [f"{c.ref} {c.compound.name} {c.state.title} {_local(c.due_at)}"
                 for c in oldest_late]
        notify_users([user], K.DIGEST, {"day": start_yesterday.date().isoformat(), "scope": scope,
                                        "new": new, "overdue": overdue,
                                        "closed": closed, "overdue_lines": lines})
        sent += 1
    db.session.flush()
    return sent
