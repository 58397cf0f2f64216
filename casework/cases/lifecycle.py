"""The case lifecycle (spec section 3), declared once, as data.

``LIFECYCLE`` is the single declaration: states (``CaseState`` says which are final), who may
fire each trigger, its guards, the fields it takes, the deadline it sets and who is told. From
it come the one shared ``transitions`` machine that moves every case, the API's
``allowed_triggers``, the guard errors, the ``/api/v1/workflow`` document and the diagram.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from casework.accounts.models import Role
from casework.cases.models import AttachmentKind, CaseState
from casework.common import lifecycle as common
from casework.common.lifecycle import Deadline, Guard, Lifecycle, Notify, Trigger

S = CaseState
OFFICER_OR_SUPERVISOR = frozenset({Role.OFFICER, Role.SUPERVISOR})
SUPERVISOR = frozenset({Role.SUPERVISOR})


@dataclass(frozen=True)
class GuardInput:
    """What a guard may look at: the case as it stands and the trigger's fields."""

    state: CaseState
    owner_name: str | None
    owner_unknown: bool
    due_at: datetime | None
    attachment_kinds: frozenset[AttachmentKind]
    enforcement_approved: bool
    open_workorders: int
    note: str
    deadline: date | None
    method: str | None
    now: datetime
    today: date
    max_deadline_days: int


def _has(*kinds: AttachmentKind) -> Callable[[GuardInput], bool]:
    return lambda g: bool(g.attachment_kinds.intersection(kinds))


def _deadline_passed(g: GuardInput) -> bool:
    return g.due_at is not None and g.due_at <= g.now


NOTE_GIVEN = Guard("note_required", "A note (the reason, resolution or inspection note) is required.",
                   lambda g: bool(g.note.strip()), field="note")
DEADLINE_GIVEN = Guard("deadline_required", "A deadline date is required.",
                       lambda g: g.deadline is not None, field="deadline")
DEADLINE_IN_FUTURE = Guard("deadline_in_future", "The deadline must be a date after today.",
                           lambda g: g.deadline is None or g.deadline > g.today, field="deadline")
DEADLINE_WITHIN_LIMIT = Guard(
    "deadline_within_limit",
    "The deadline may be at most {CASEWORK_MAX_DEADLINE_DAYS} days from today.",
    lambda g: g.deadline is None or g.deadline <= g.today + timedelta(days=g.max_deadline_days),
    field="deadline")
DEADLINE_PASSED = Guard("deadline_passed", "The negotiated deadline has not passed yet.",
                        _deadline_passed)
NEW_DEADLINE = (DEADLINE_GIVEN, DEADLINE_IN_FUTURE, DEADLINE_WITHIN_LIMIT)
# A case cannot end while a company still has work on it.
WORKORDERS_FINISHED = Guard("workorders_finished",
                            "Every work order of the case must be verified or cancelled.",
                            lambda g: g.open_workorders == 0)

TO_NEGOTIATE = Deadline.days("CASEWORK_DAYS_TO_NEGOTIATE")
OFFICER = (Notify.officer,)
OFFICER_AND_SUPERVISORS = (Notify.officer, Notify.supervisors)

TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "verify_ownership", "核实产权", (S.IDENTIFIED,), S.OWNERSHIP_VERIFIED, OFFICER_OR_SUPERVISOR,
        guards=(
            Guard("owner_identified",
                  "The owner's name is recorded, or the owner is unknown and a public notice "
                  "is attached.",
                  lambda g: bool((g.owner_name or "").strip())
                  or (g.owner_unknown and AttachmentKind.NOTICE in g.attachment_kinds),
                  field="owner_name"),
            Guard("ownership_evidence", "An ownership_doc or notice attachment is required.",
                  _has(AttachmentKind.OWNERSHIP_DOC, AttachmentKind.NOTICE), field="attachment"),
        ),
        fields=("note",), deadline=TO_NEGOTIATE, notify=OFFICER,
    ),
    Trigger(
        "negotiate", "协商/告知", (S.OWNERSHIP_VERIFIED,), S.NEGOTIATED, OFFICER_OR_SUPERVISOR,
        guards=NEW_DEADLINE + (
            Guard("agreement_or_notice",
                  "An agreement (the owner will self-demolish) or a notice (限期拆除通知书) "
                  "attachment is required.",
                  _has(AttachmentKind.AGREEMENT, AttachmentKind.NOTICE), field="attachment"),
        ),
        fields=("note", "deadline"), deadline=Deadline.given, notify=OFFICER,
    ),
    Trigger(
        "approve_enforcement", "批准强制拆除", (S.NEGOTIATED,), S.NEGOTIATED, SUPERVISOR,
        guards=(DEADLINE_PASSED,), fields=("note",), deadline=Deadline.keep, notify=OFFICER,
    ),
    Trigger(
        "demolish", "拆除", (S.NEGOTIATED,), S.DEMOLISHED, OFFICER_OR_SUPERVISOR,
        guards=(
            Guard("after_photo", "An after_photo attachment is required.",
                  _has(AttachmentKind.AFTER_PHOTO), field="attachment"),
            Guard("method_required", "A method (self, company or enforced) is required.",
                  lambda g: g.method is not None, field="method"),
            Guard("enforcement_deadline_passed",
                  "Enforced demolition needs the negotiated deadline to have passed.",
                  lambda g: g.method != "enforced" or _deadline_passed(g), field="method"),
            Guard("enforcement_approved",
                  "Enforced demolition needs a supervisor's approve_enforcement on this case.",
                  lambda g: g.method != "enforced" or g.enforcement_approved, field="method"),
        ),
        fields=("note", "method"), deadline=Deadline.days("CASEWORK_DAYS_TO_INSPECT"),
        notify=OFFICER_AND_SUPERVISORS,
    ),
    Trigger(
        "close", "验收结案", (S.DEMOLISHED,), S.CLOSED, SUPERVISOR,
        guards=(
            Guard("inspection_note", "An inspection note is required.",
                  lambda g: bool(g.note.strip()), field="note"),
            WORKORDERS_FINISHED,
        ),
        fields=("note",), notify=OFFICER,
    ),
    Trigger(
        "reopen", "重新施工", (S.DEMOLISHED, S.CLOSED), S.NEGOTIATED, SUPERVISOR,
        guards=(NOTE_GIVEN,) + NEW_DEADLINE, fields=("note", "deadline"),
        deadline=Deadline.given, notify=OFFICER,
    ),
    Trigger(
        "dispute", "提出争议", (S.OWNERSHIP_VERIFIED, S.NEGOTIATED), S.DISPUTED,
        OFFICER_OR_SUPERVISOR, guards=(NOTE_GIVEN,), fields=("note",),
        deadline=Deadline.days("CASEWORK_DAYS_TO_RESOLVE_DISPUTE"),
        notify=OFFICER_AND_SUPERVISORS,
    ),
    Trigger(
        "resolve_dispute", "解决争议", (S.DISPUTED,), S.OWNERSHIP_VERIFIED, SUPERVISOR,
        guards=(NOTE_GIVEN,), fields=("note",), deadline=TO_NEGOTIATE, notify=OFFICER,
    ),
    Trigger(
        "dismiss", "撤销(合法建筑)", (S.IDENTIFIED, S.OWNERSHIP_VERIFIED, S.DISPUTED), S.DISMISSED,
        SUPERVISOR,
        guards=(
            NOTE_GIVEN,
            Guard("supporting_attachment",
                  "A supporting attachment (ownership_doc or other, e.g. the permit) is required.",
                  _has(AttachmentKind.OWNERSHIP_DOC, AttachmentKind.OTHER), field="attachment"),
            WORKORDERS_FINISHED,
        ),
        fields=("note",), notify=OFFICER,
    ),
)

LIFECYCLE = Lifecycle("Casework case lifecycle", "case", CaseState, S.IDENTIFIED, TRIGGERS,
                      initial_deadline=Deadline.days("CASEWORK_DAYS_TO_VERIFY"))
BY_NAME: dict[str, Trigger] = LIFECYCLE.by_name
INITIAL_STATE = LIFECYCLE.initial
# The one machine for every case (spec section 12): built once, with no model, and driven
# with ``machine.events[name].trigger(case, guard_input=...)``.
machine = LIFECYCLE.machine


def failed_guards(trigger: Trigger, guard_input: GuardInput) -> list[dict[str, str]]:
    return common.failed_guards(trigger, guard_input)


def triggers_from(state: CaseState) -> list[Trigger]:
    return LIFECYCLE.triggers_from(state)


def mermaid_diagram() -> str:
    return LIFECYCLE.diagram()


def workflow_document(config=None) -> dict:
    """The case lifecycle as data, for ``GET /api/v1/workflow``."""
    return LIFECYCLE.document(config)
