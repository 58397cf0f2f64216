"""The deadline notice (限期拆除通知书): previewed without a trace, issued with one.

A notice is served before or at negotiation: for a case whose ownership is verified it states
the deadline the officer proposes (checked by the lifecycle's own deadline rules); once the case
is negotiated it states the negotiated deadline and no other."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

from sqlalchemy import select

from casework import clock
from casework.accounts.models import User
from casework.cases import lifecycle
from casework.cases.history import record_event
from casework.cases.models import Case, CaseEvent, CaseState
from casework.common import policy
from casework.common.errors import Conflict, ValidationFailed, problem
from casework.extensions import db
from casework.notices import document
from casework.notices.policies import can_issue_notice
from casework.settings import setting, settings
from casework.workorders.models import WorkOrder

ISSUED = "notice_issued"
_DEADLINE_RULES = (lifecycle.DEADLINE_GIVEN, lifecycle.DEADLINE_IN_FUTURE,
                   lifecycle.DEADLINE_WITHIN_LIMIT)


@dataclass(frozen=True)
class Notice:
    number: str
    deadline: date
    document: document.Document
    # Already in the case's history: printing it again records nothing new.
    issued: bool = False


def _deadline_of(case: Case, proposed: date | None) -> date:
    if case.state is CaseState.NEGOTIATED:
        negotiated = clock.deadline_day(case.due_at)
        if proposed is not None and proposed != negotiated:
            raise ValidationFailed("The case is negotiated: its notice states the negotiated "
                                   "deadline.", [problem("deadline", "negotiated_deadline",
                                                         f"The negotiated deadline is {negotiated}.")])
        return negotiated
    if case.state is not CaseState.OWNERSHIP_VERIFIED:
        raise Conflict("A deadline notice is served once ownership is verified and until the "
                       "case is negotiated.", {"state": case.state.value},
                       code="notice_not_possible")
    # The deadline obeys the rules that negotiating with it will check.
    given = SimpleNamespace(deadline=proposed, today=clock.local_today(),
                            max_deadline_days=setting("CASEWORK_MAX_DEADLINE_DAYS"))
    problems = [problem(rule.field, rule.rule, rule.text(settings()))
                for rule in _DEADLINE_RULES if not rule.holds(given)]
    if problems:
        raise ValidationFailed("The notice's deadline is not possible.", problems)
    return proposed


def _last_issued(case: Case) -> tuple[int, CaseEvent | None]:
    """How many notices the case has had, and the latest."""
    events = list(db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.trigger == ISSUED).order_by(CaseEvent.seq)))
    return len(events), (events[-1] if events else None)


def _render(case: Case, deadline: date, number: str) -> document.Document:
    return document.render(
        "deadline_notice.html", number=number, ref=case.ref,
        owner=(case.owner_name or "").strip() or "产权人（使用人）",
        compound=case.compound.name, address=case.address or "", kind=case.kind.title,
        area_m2=case.area_m2, description=(case.description or "").strip(),
        deadline=deadline, legal_basis=setting("CASEWORK_NOTICE_LEGAL_BASIS"),
        office=setting("CASEWORK_NOTICE_OFFICE"), issued_on=clock.local_today(),
        officer=case.officer.display_name if case.officer else "")


def _reprint_or_next(case: Case, deadline: date) -> tuple[Notice, bool]:
    """The notice for this deadline: the latest one again when it would read exactly as issued
    (a reprint the same day, a retried request), else the next one. True when it is new."""
    count, last = _last_issued(case)
    if last is not None and last.data.get("deadline") == deadline.isoformat():
        again = _render(case, deadline, last.data["number"])
        if again.sha256 == last.data.get("sha256"):
            return Notice(last.data["number"], deadline, again, issued=True), False
    number = f"{case.ref}-{count + 1}"
    return Notice(number, deadline, _render(case, deadline, number)), True


def preview_notice(case: Case, user: User, deadline: date | None = None) -> Notice:
    """The notice as it would be issued now; records nothing."""
    policy.require(can_issue_notice(user, case), "Only the zone's officers and supervisors "
                                                 "issue notices.")
    notice, _new = _reprint_or_next(case, _deadline_of(case, deadline))
    return notice


def issue_notice(case: Case, user: User, deadline: date | None = None) -> tuple[Notice, bool]:
    """Issues the notice: its number, deadline and the hash of its HTML go into the case's
    history, so the record shows which text the owner received. Issuing the same text again
    (a reprint, a retry) records nothing new; the second value says whether this one is new.
    The caller holds the case locked (``get_visible_case(..., for_update=True)``)."""
    policy.require(can_issue_notice(user, case), "Only the zone's officers and supervisors "
                                                 "issue notices.")
    notice, new = _reprint_or_next(case, _deadline_of(case, deadline))
    if not new:
        return notice, False
    record_event(case, ISSUED, case.state.value, user,
                 data={"number": notice.number, "deadline": notice.deadline.isoformat(),
                       "sha256": notice.document.sha256})
    return Notice(notice.number, notice.deadline, notice.document, issued=True), True


def workorder_sheet(order: WorkOrder) -> document.Document:
    """The sheet a company's crew takes to the site: no owner's personal data on it."""
    case = order.case
    return document.render(
        "workorder_sheet.html", number=f"{case.ref}-W{order.id}", kind=order.kind.title,
        company=order.company.name, ref=case.ref, compound=case.compound.name,
        address=case.address or "",
        due=clock.deadline_day(order.due_at) if order.due_at else None,
        instructions=order.note, issued_by=order.created_by.display_name,
        issued_on=order.created_at.astimezone(clock.local_zone()).date())
