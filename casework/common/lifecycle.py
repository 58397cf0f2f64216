"""What every lifecycle declaration is made of, and the one executor that fires its triggers.

A lifecycle (cases, work orders) is a ``Lifecycle``: its states enum (which says which states
are final), its ``Trigger`` values and its initial deadline. From it come one ``transitions``
machine built once with no model (records are driven through
``machine.events[name].trigger(record, guard_input=...)``), the failed guards of an error, the
triggers a user may fire, the ``/api/v1/workflow`` document and the mermaid diagram.

``fire`` is the only code that moves a record through its lifecycle: it checks the trigger, the
version, the state and the role, then the domain's own rule and the guards, moves the machine,
sets the deadline the trigger declares, and has the domain write the history and the
notifications, all in the caller's transaction.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, ClassVar, Iterable, Mapping

from transitions import Machine
from transitions.extensions import GraphMachine

from casework import clock
from casework.common.errors import (Conflict, Forbidden, ValidationFailed, problem,
                                     stale_version_error)
from casework.settings import settings as current_settings


@dataclass(frozen=True)
class Guard:
    """A rule that must hold before a trigger fires. Its message may name settings in braces
    (``{CASEWORK_MAX_DEADLINE_DAYS}``): a limit is always shown as configured."""

    rule: str
    message: str
    holds: Callable[[Any], bool]
    # The input the rule is about (note, deadline, method, attachment), so that a form shows
    # the failure beside it; None for a rule about the record as a whole.
    field: str | None = None

    def text(self, config: Mapping[str, Any]) -> str:
        return self.message.format_map(config)


@dataclass(frozen=True)
class Deadline:
    """How a trigger sets the deadline of the state it enters: a number of days held in a
    setting (``Deadline.days("CASEWORK_DAYS_TO_NEGOTIATE")``), the date the user gives
    (``Deadline.given``, to the end of that local day) or the deadline already running
    (``Deadline.keep``). A trigger with no ``Deadline`` leaves none running."""

    kind: str
    setting: str | None = None

    given: ClassVar[Deadline]
    keep: ClassVar[Deadline]

    @classmethod
    def days(cls, setting: str) -> Deadline:
        return cls("days", setting)

    def due_at(self, current: datetime | None, given: date | None, now: datetime,
               config: Mapping[str, Any]) -> datetime | None:
        if self.kind == "keep":
            return current
        if self.kind == "given":
            return clock.end_of_local_day(given) if given is not None else None
        return now + timedelta(days=config[self.setting])

    def document(self, config: Mapping[str, Any]) -> dict[str, Any]:
        if self.kind == "days":
            return {"kind": "days", "days": config[self.setting]}
        return {"kind": self.kind}


Deadline.given = Deadline("given")
Deadline.keep = Deadline("keep")


class Notify(str, enum.Enum):
    """Who is told (in-app, email, webhook) when a trigger fires. The one who acted never is."""

    officer = "officer"          # the case's officer (for a work order, also who issued it)
    supervisors = "supervisors"  # the supervisors of the case's zone
    company = "company"          # the company doing the work order: its users and webhook


@dataclass(frozen=True)
class Trigger:
    name: str
    title: str
    sources: tuple[enum.Enum, ...]
    dest: enum.Enum
    roles: frozenset
    guards: tuple[Guard, ...] = ()
    fields: tuple[str, ...] = ()
    deadline: Deadline | None = None
    notify: tuple[Notify, ...] = ()


@dataclass(frozen=True)
class Lifecycle:
    """One lifecycle, declared once. ``states`` is an enum whose members answer ``is_final``."""

    title: str
    noun: str
    states: type[enum.Enum]
    initial: enum.Enum
    triggers: tuple[Trigger, ...]
    initial_deadline: Deadline | None = None
    by_name: dict[str, Trigger] = field(init=False, repr=False)
    final: frozenset = field(init=False, repr=False)
    machine: Machine = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {t.name: t for t in self.triggers})
        object.__setattr__(self, "final", frozenset(s for s in self.states if s.is_final))
        object.__setattr__(self, "machine", build_machine(self.states, self.triggers,
                                                          self.initial))

    def triggers_from(self, state: enum.Enum) -> list[Trigger]:
        return triggers_from(self.triggers, state)

    def allowed(self, state: enum.Enum, role: Any) -> list[str]:
        """The triggers a role may fire from a state (the guards are checked on firing)."""
        return [t.name for t in self.triggers_from(state) if role in t.roles]

    def document(self, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The lifecycle as data, for ``GET /api/v1/workflow``."""
        config = current_settings() if config is None else config
        initial: dict[str, Any] = {"state": self.initial.value}
        if self.initial_deadline is not None:
            initial["deadline"] = self.initial_deadline.document(config)
        return {"states": [{"name": s.value, "title": s.title, "final": s in self.final}
                           for s in self.states],
                "initial": initial,
                "triggers": triggers_document(self.triggers, config)}

    def diagram(self) -> str:
        return mermaid_diagram(self.states, self.triggers, self.initial, self.title)


def failed_guards(trigger: Trigger, guard_input: Any,
                  config: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    failed = [g for g in trigger.guards if not g.holds(guard_input)]
    if not failed:
        return []
    config = current_settings() if config is None else config
    return [problem(g.field, g.rule, g.text(config)) for g in failed]


def triggers_from(triggers: Iterable[Trigger], state: enum.Enum) -> list[Trigger]:
    return [t for t in triggers if state in t.sources]


def build_machine(states: type[enum.Enum], triggers: tuple[Trigger, ...],
                  initial: enum.Enum) -> Machine:
    by_name = {t.name: t for t in triggers}

    def guards_hold(event) -> bool:
        """The machine itself refuses a move whose guards fail, should a caller skip them."""
        trigger = by_name[event.event.name]
        return all(g.holds(event.kwargs["guard_input"]) for g in trigger.guards)

    return Machine(model=None, states=states, initial=initial, auto_transitions=False,
                   send_event=True, model_attribute="state",
                   transitions=[{"trigger": t.name, "source": list(t.sources), "dest": t.dest,
                                 "conditions": [guards_hold]} for t in triggers])


def mermaid_diagram(states: type[enum.Enum], triggers: tuple[Trigger, ...], initial: enum.Enum,
                    title: str) -> str:
    """The lifecycle drawn by transitions' mermaid engine from the same declaration."""
    graph = GraphMachine(model=None, states=[s.value for s in states],
                         transitions=[{"trigger": t.name, "source": [s.value for s in t.sources],
                                       "dest": t.dest.value} for t in triggers],
                         initial=initial.value, auto_transitions=False, graph_engine="mermaid",
                         title=title, show_state_attributes=False)

    class _Diagram:
        pass

    subject = _Diagram()
    graph.add_model(subject)
    return subject.get_graph().draw(None)


def deadline_document(rule: Deadline | None, config: Mapping[str, Any]) -> dict | None:
    return None if rule is None else rule.document(config)


def triggers_document(triggers: tuple[Trigger, ...], config: Mapping[str, Any]) -> list[dict]:
    return [{"name": t.name, "title": t.title, "from": [s.value for s in t.sources],
             "to": t.dest.value, "roles": sorted(r.value for r in t.roles),
             "fields": list(t.fields),
             "guards": [{"rule": g.rule, "message": g.text(config)} for g in t.guards],
             "deadline": deadline_document(t.deadline, config)}
            for t in triggers]


def check_version(record: Any, expected_version: int) -> None:
    """A client acting on a version it has not seen is refused (409), never overwrites."""
    if record.version != expected_version:
        err = stale_version_error()
        err.details = {"current_version": record.version}
        raise err


def trigger_to_fire(by_name: dict[str, Trigger], name: str, record: Any, user: Any,
                    expected_version: int, allowed: Callable[[], list[str]]) -> Trigger:
    """The checks every trigger passes before its guards, in the order the API promises:
    known trigger (422), current version (409), valid from the state (409 with the triggers
    that are), the user's role (403)."""
    trigger = by_name.get(name)
    if trigger is None:
        raise ValidationFailed(f"Unknown trigger {name!r}.",
                               [problem("trigger", "known_trigger",
                                        "One of: " + ", ".join(by_name))])
    check_version(record, expected_version)
    if record.state not in trigger.sources:
        raise Conflict(f"{trigger.name} is not possible from {record.state.value}.",
                       {"state": record.state.value, "allowed_triggers": allowed()},
                       code="invalid_transition")
    if user.role not in trigger.roles:
        roles = sorted(r.value for r in trigger.roles)
        raise Forbidden(f"{trigger.name} is done by {' or '.join(roles)}.", {"roles": roles})
    return trigger


@dataclass(frozen=True)
class Firing:
    """What a domain adds to ``fire`` for its records: the triggers the user may fire (for the
    409), a rule of its own checked after the role (``check``), what the guards look at
    (``guard_input``, which must carry ``now`` and, when a trigger takes one, ``deadline``),
    and the writing of the history and the notifications once the record has moved."""

    allowed: Callable[[], list[str]]
    guard_input: Callable[[Trigger], Any]
    record_history: Callable[[Trigger, enum.Enum, Any], Any]
    # Called once with every kind of recipient the trigger names, so that all the rows of
    # one transition are written together.
    notify: Callable[[Trigger, tuple[Notify, ...], enum.Enum], None]
    check: Callable[[Trigger], None] = lambda trigger: None


def fire(lifecycle: Lifecycle, record: Any, user: Any, trigger_name: str, *,
         expected_version: int, firing: Firing,
         config: Mapping[str, Any] | None = None) -> Any:
    """Fires one trigger on one record; returns what ``record_history`` wrote. Nothing changes
    unless every check passes; the caller's transaction holds the change, its history and its
    notifications together."""
    config = current_settings() if config is None else config
    trigger = trigger_to_fire(lifecycle.by_name, trigger_name, record, user, expected_version,
                              firing.allowed)
    firing.check(trigger)
    given = firing.guard_input(trigger)
    failures = failed_guards(trigger, given, config)
    if failures:
        raise ValidationFailed(f"{trigger.name} cannot be done yet.", failures,
                               code="guard_failed")
    from_state = record.state
    if not lifecycle.machine.events[trigger.name].trigger(record, guard_input=given):
        # The machine re-checks the guards; reaching here means they changed meanwhile.
        raise Conflict(f"The {lifecycle.noun} changed while the trigger was checked; "
                       "try again.")
    now = given.now
    if trigger.dest is not from_state and hasattr(record, "state_entered_at"):
        record.state_entered_at = now
    # Every trigger changes the record, even one that stays in its state (approve_enforcement):
    # touching the row makes the version advance, so a client holding the old version is
    # refused instead of acting on a record it has not seen.
    record.updated_at = now
    if trigger.deadline is None:
        record.due_at = None
    else:
        record.due_at = trigger.deadline.due_at(record.due_at, getattr(given, "deadline", None),
                                                now, config)
    written = firing.record_history(trigger, from_state, given)
    if trigger.notify:
        firing.notify(trigger, trigger.notify, from_state)
    return written
