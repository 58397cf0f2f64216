"""The case lifecycle (spec section 3), declared once, as data.

``TRIGGERS`` is the single declaration: states, who may fire each trigger, its guards, the
fields it takes and the deadline it sets. From it come the one shared ``transitions`` machine
that moves every case, the API's ``allowed_triggers``, the guard errors, the
``/api/v1/workflow`` document and the mermaid diagram.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from transitions import Machine
from transitions.extensions import GraphMachine

from casework.accounts.models import Role
from casework.cases.models import CaseState
from casework.evidence.models import AttachmentKind

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
    note: str
    deadline: date | None
    method: str | None
    now: datetime
    today: date
    max_deadline_days: int


@dataclass(frozen=True)
class Guard:
    rule: str
    message: str
    holds: Callable[[GuardInput], bool]


@dataclass(frozen=True)
class Trigger:
    name: str
    title: str
    sources: tuple[CaseState, ...]
    dest: CaseState
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    fields: tuple[str, ...] = ()
    # How the deadline is set on entry: a config key holding days, "given" (the request's
    # deadline), "keep" (unchanged) or None (no deadline runs).
    deadline: str | None = None


def _has(*kinds: AttachmentKind) -> Callable[[GuardInput], bool]:
    return lambda g: bool(g.attachment_kinds.intersection(kinds))


def _deadline_passed(g: GuardInput) -> bool:
    return g.due_at is not None and g.due_at <= g.now


NOTE_GIVEN = Guard("note_required", "A note (the reason, resolution or inspection note) is required.",
                   lambda g: bool(g.note.strip()))
DEADLINE_GIVEN = Guard("deadline_required", "A deadline date is required.",
                       lambda g: g.deadline is not None)
DEADLINE_IN_FUTURE = Guard("deadline_in_future", "The deadline must be a date after today.",
                           lambda g: g.deadline is None or g.deadline > g.today)
DEADLINE_WITHIN_LIMIT = Guard(
    "deadline_within_limit", "The deadline may be at most 90 days from today (configurable).",
    lambda g: g.deadline is None or g.deadline <= g.today + timedelta(days=g.max_deadline_days))
DEADLINE_PASSED = Guard("deadline_passed", "The negotiated deadline has not passed yet.",
                        _deadline_passed)
NEW_DEADLINE = (DEADLINE_GIVEN, DEADLINE_IN_FUTURE, DEADLINE_WITHIN_LIMIT)

TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "verify_ownership", "核实产权", (S.IDENTIFIED,), S.OWNERSHIP_VERIFIED, OFFICER_OR_SUPERVISOR,
        guards=(
            Guard("owner_identified",
                  "The owner's name is recorded, or the owner is unknown and a public notice "
                  "is attached.",
                  lambda g: bool((g.owner_name or "").strip())
                  or (g.owner_unknown and AttachmentKind.NOTICE in g.attachment_kinds)),
            Guard("ownership_evidence", "An ownership_doc or notice attachment is required.",
                  _has(AttachmentKind.OWNERSHIP_DOC, AttachmentKind.NOTICE)),
        ),
        fields=("note",), deadline="CASEWORK_DAYS_TO_NEGOTIATE",
    ),
    Trigger(
        "negotiate", "协商/告知", (S.OWNERSHIP_VERIFIED,), S.NEGOTIATED, OFFICER_OR_SUPERVISOR,
        guards=NEW_DEADLINE + (
            Guard("agreement_or_notice",
                  "An agreement (the owner will self-demolish) or a notice (限期拆除通知书) "
                  "attachment is required.",
                  _has(AttachmentKind.AGREEMENT, AttachmentKind.NOTICE)),
        ),
        fields=("note", "deadline"), deadline="given",
    ),
    Trigger(
        "approve_enforcement", "批准强制拆除", (S.NEGOTIATED,), S.NEGOTIATED, SUPERVISOR,
        guards=(DEADLINE_PASSED,), fields=("note",), deadline="keep",
    ),
    Trigger(
        "demolish", "拆除", (S.NEGOTIATED,), S.DEMOLISHED, OFFICER_OR_SUPERVISOR,
        guards=(
            Guard("after_photo", "An after_photo attachment is required.",
                  _has(AttachmentKind.AFTER_PHOTO)),
            Guard("method_required", "A method (self, company or enforced) is required.",
                  lambda g: g.method is not None),
            Guard("enforcement_deadline_passed",
                  "Enforced demolition needs the negotiated deadline to have passed.",
                  lambda g: g.method != "enforced" or _deadline_passed(g)),
            Guard("enforcement_approved",
                  "Enforced demolition needs a supervisor's approve_enforcement on this case.",
                  lambda g: g.method != "enforced" or g.enforcement_approved),
        ),
        fields=("note", "method"), deadline="CASEWORK_DAYS_TO_INSPECT",
    ),
    Trigger(
        "close", "验收结案", (S.DEMOLISHED,), S.CLOSED, SUPERVISOR,
        guards=(
            Guard("inspection_note", "An inspection note is required.",
                  lambda g: bool(g.note.strip())),
        ),
        fields=("note",), deadline=None,
    ),
    Trigger(
        "reopen", "重新施工", (S.DEMOLISHED, S.CLOSED), S.NEGOTIATED, SUPERVISOR,
        guards=(NOTE_GIVEN,) + NEW_DEADLINE, fields=("note", "deadline"), deadline="given",
    ),
    Trigger(
        "dispute", "提出争议", (S.OWNERSHIP_VERIFIED, S.NEGOTIATED), S.DISPUTED,
        OFFICER_OR_SUPERVISOR, guards=(NOTE_GIVEN,), fields=("note",),
        deadline="CASEWORK_DAYS_TO_RESOLVE_DISPUTE",
    ),
    Trigger(
        "resolve_dispute", "解决争议", (S.DISPUTED,), S.OWNERSHIP_VERIFIED, SUPERVISOR,
        guards=(NOTE_GIVEN,), fields=("note",), deadline="CASEWORK_DAYS_TO_NEGOTIATE",
    ),
    Trigger(
        "dismiss", "撤销(合法建筑)", (S.IDENTIFIED, S.OWNERSHIP_VERIFIED, S.DISPUTED), S.DISMISSED,
        SUPERVISOR,
        guards=(
            NOTE_GIVEN,
            Guard("supporting_attachment",
                  "A supporting attachment (ownership_doc or other, e.g. the permit) is required.",
                  _has(AttachmentKind.OWNERSHIP_DOC, AttachmentKind.OTHER)),
        ),
        fields=("note",), deadline=None,
    ),
)

BY_NAME: dict[str, Trigger] = {t.name: t for t in TRIGGERS}
INITIAL_STATE = S.IDENTIFIED
INITIAL_DEADLINE = "CASEWORK_DAYS_TO_VERIFY"


def failed_guards(trigger: Trigger, guard_input: GuardInput) -> list[dict[str, str]]:
    return [{"rule": g.rule, "message": g.message}
            for g in trigger.guards if not g.holds(guard_input)]


def triggers_from(state: CaseState) -> list[Trigger]:
    return [t for t in TRIGGERS if state in t.sources]


def _machine_transitions() -> list[dict]:
    return [{"trigger": t.name, "source": list(t.sources), "dest": t.dest,
             "conditions": [_guards_hold]} for t in TRIGGERS]


def _guards_hold(event) -> bool:
    """The machine refuses a move whose guards fail even if a caller skipped the check."""
    trigger = BY_NAME[event.event.name]
    return not failed_guards(trigger, event.kwargs["guard_input"])


# The one machine for every case (spec section 12): built once, with no model, and driven
# with ``machine.events[name].trigger(case, guard_input=...)``.
machine = Machine(model=None, states=CaseState, transitions=_machine_transitions(),
                  initial=INITIAL_STATE, auto_transitions=False, send_event=True,
                  model_attribute="state")


def mermaid_diagram() -> str:
    """The lifecycle drawn by transitions' mermaid engine from the same declaration."""
    graph = GraphMachine(model=None, states=[s.value for s in CaseState],
                         transitions=[{"trigger": t.name, "source": [s.value for s in t.sources],
                                       "dest": t.dest.value} for t in TRIGGERS],
                         initial=INITIAL_STATE.value, auto_transitions=False,
                         graph_engine="mermaid",
                         title="Casework case lifecycle", show_state_attributes=False)

    class _Diagram:
        pass

    subject = _Diagram()
    graph.add_model(subject)
    return subject.get_graph().draw(None)


def workflow_document(config) -> dict:
    """The lifecycle as data, for ``GET /api/v1/workflow``."""
    def deadline_doc(rule: str | None):
        if rule is None:
            return None
        if rule in ("given", "keep"):
            return {"kind": rule}
        return {"kind": "days", "days": config[rule]}

    return {
        "states": [{"name": s.value, "title": s.title, "final": s is S.DISMISSED}
                   for s in CaseState],
        "initial": {"state": INITIAL_STATE.value, "deadline": deadline_doc(INITIAL_DEADLINE)},
        "triggers": [
            {"name": t.name, "title": t.title, "from": [s.value for s in t.sources],
             "to": t.dest.value, "roles": sorted(r.value for r in t.roles),
             "fields": list(t.fields),
             "guards": [{"rule": g.rule, "message": g.message} for g in t.guards],
             "deadline": deadline_doc(t.deadline)}
            for t in TRIGGERS
        ],
    }
