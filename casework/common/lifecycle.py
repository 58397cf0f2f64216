"""What every lifecycle declaration is made of: guards, triggers, one shared machine, a diagram.

A lifecycle (cases, work orders) is a tuple of ``Trigger`` values. From it come one
``transitions`` machine built once with no model (records are driven through
``machine.events[name].trigger(record, guard_input=...)``), the list of failed guards for
an error, the triggers a user may fire, and the mermaid diagram.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from transitions import Machine
from transitions.extensions import GraphMachine

from casework.common.errors import (Conflict, Forbidden, ValidationFailed, problem,
                                     stale_version_error)


@dataclass(frozen=True)
class Guard:
    rule: str
    message: str
    holds: Callable[[Any], bool]


@dataclass(frozen=True)
class Trigger:
    name: str
    title: str
    sources: tuple[enum.Enum, ...]
    dest: enum.Enum
    roles: frozenset
    guards: tuple[Guard, ...] = ()
    fields: tuple[str, ...] = ()
    # How the deadline is set on entry: a config key holding days, "given" (from the
    # request), "keep" (unchanged) or None (no deadline runs in the new state).
    deadline: str | None = None
    # Who is told (in-app, email) when it happens: names understood by the operations.
    notify: tuple[str, ...] = ()


def failed_guards(trigger: Trigger, guard_input: Any) -> list[dict[str, str]]:
    return [{"rule": g.rule, "message": g.message}
            for g in trigger.guards if not g.holds(guard_input)]


def triggers_from(triggers: Iterable[Trigger], state: enum.Enum) -> list[Trigger]:
    return [t for t in triggers if state in t.sources]


def build_machine(states: type[enum.Enum], triggers: tuple[Trigger, ...],
                  initial: enum.Enum) -> Machine:
    by_name = {t.name: t for t in triggers}

    def guards_hold(event) -> bool:
        """The machine itself refuses a move whose guards fail, should a caller skip them."""
        return not failed_guards(by_name[event.event.name], event.kwargs["guard_input"])

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


def deadline_document(rule: str | None, config) -> dict | None:
    if rule is None:
        return None
    if rule in ("given", "keep"):
        return {"kind": rule}
    return {"kind": "days", "days": config[rule]}


def triggers_document(triggers: tuple[Trigger, ...], config) -> list[dict]:
    return [{"name": t.name, "title": t.title, "from": [s.value for s in t.sources],
             "to": t.dest.value, "roles": sorted(r.value for r in t.roles),
             "fields": list(t.fields),
             "guards": [{"rule": g.rule, "message": g.message} for g in t.guards],
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
