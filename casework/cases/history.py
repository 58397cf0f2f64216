"""The hash-chained case history.

Each event's hash covers its own content and the previous event's hash, so altering, removing
or reordering any row breaks the chain from that row on. ``recompute_chains`` checks every
chain, and ``checkpoints`` holds them to a signed record of their heads.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from sqlalchemy import insert, select

from casework import clock
from casework.accounts.models import User
from casework.cases.models import Case, CaseEvent
from casework.extensions import db

GENESIS = "0" * 64


def event_hash(*, case_id: int, seq: int, trigger: str, from_state: str | None, to_state: str,
               actor_id: int | None, actor: str, role: str, at, note: str,
               data: dict[str, Any], prev_hash: str) -> str:
    content = {
        "case_id": case_id, "seq": seq, "trigger": trigger, "from_state": from_state,
        "to_state": to_state, "actor_id": actor_id, "actor": actor, "role": role,
        "at": at.isoformat(timespec="microseconds"), "note": note, "data": data,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hash_of(event: CaseEvent) -> str:
    return event_hash(case_id=event.case_id, seq=event.seq, trigger=event.trigger,
                      from_state=event.from_state, to_state=event.to_state,
                      actor_id=event.actor_id, actor=event.actor, role=event.role, at=event.at,
                      note=event.note, data=event.data, prev_hash=event.prev_hash)


def last_event(case: Case) -> CaseEvent | None:
    return db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.seq.desc()).limit(1))


def record_event(case: Case, trigger: str, from_state: str | None, user: User, *,
                 note: str = "", data: dict[str, Any] | None = None) -> CaseEvent:
    """Appends one event to the case's chain. The caller holds the case (row lock or a new
    row), so no other event can take the same sequence number; a unique key backs that up."""
    previous = last_event(case)
    event = CaseEvent(
        case_id=case.id, seq=previous.seq + 1 if previous else 1, trigger=trigger,
        from_state=from_state, to_state=case.state.value, actor_id=user.id,
        actor=user.username, role=user.role.value,
        at=clock.now(), note=note,
        data=dict(data or {}), prev_hash=previous.hash if previous else GENESIS,
    )
    event.hash = _hash_of(event)
    db.session.add(event)
    db.session.flush()
    return event


def record_first_events(cases: Iterable[tuple[Case, dict[str, Any]]], trigger: str,
                        user: User) -> None:
    """The first event of each of many new cases, in one batched INSERT: a new case has no
    event before it, so nothing is read and each chain starts from ``GENESIS``."""
    at = clock.now()
    rows = []
    for case, data in cases:
        row = {"case_id": case.id, "seq": 1, "trigger": trigger, "from_state": None,
               "to_state": case.state.value, "actor_id": user.id, "actor": user.username,
               "role": user.role.value, "at": at, "note": "", "data": dict(data),
               "prev_hash": GENESIS}
        row["hash"] = event_hash(**row)
        rows.append(row)
    if rows:
        db.session.execute(insert(CaseEvent.__table__), rows)


@dataclass
class ChainBreak:
    case_id: int
    ref: str
    seq: int
    reason: str


def _check_chain(events: Iterable[CaseEvent]) -> tuple[int, str] | None:
    expected_prev, expected_seq = GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            return event.seq, f"expected event {expected_seq}, found {event.seq}"
        if event.prev_hash != expected_prev:
            return event.seq, "previous-hash link broken"
        if _hash_of(event) != event.hash:
            return event.seq, "content does not match its hash"
        expected_prev, expected_seq = event.hash, expected_seq + 1
    return None


@dataclass
class Chain:
    """One case's history as recomputed: the hash of each event by its sequence number, and
    the first break found in it, if any."""
    case_id: int
    ref: str
    hashes: dict[int, str]
    broken: ChainBreak | None

    @property
    def head(self) -> tuple[int, str] | None:
        if not self.hashes:
            return None
        seq = max(self.hashes)
        return seq, self.hashes[seq]


def recompute_chains(batch_size: int = 500) -> Iterator[Chain]:
    """Recomputes every case's chain, a batch of cases at a time."""
    last_id = 0
    while True:
        cases = db.session.execute(select(Case.id, Case.ref, Case.state).where(Case.id > last_id)
                                   .order_by(Case.id).limit(batch_size)).all()
        if not cases:
            return
        ids = [c.id for c in cases]
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids))
                                    .order_by(CaseEvent.case_id, CaseEvent.seq)).all()
        by_case: dict[int, list[CaseEvent]] = {case_id: [] for case_id in ids}
        for event in events:
            by_case[event.case_id].append(event)
        for case_id, ref, state in cases:
            chain = by_case[case_id]
            hashes = {event.seq: event.hash for event in chain}
            broken = None
            if not chain:
                broken = ChainBreak(case_id, ref, 0, "the case has no history")
            elif found := _check_chain(chain):
                broken = ChainBreak(case_id, ref, found[0], found[1])
            elif chain[-1].to_state != state.value:
                broken = ChainBreak(case_id, ref, chain[-1].seq,
                                    f"the case is {state.value} but its history ends in "
                                    f"{chain[-1].to_state}")
            yield Chain(case_id, ref, hashes, broken)
        db.session.expunge_all()
        last_id = ids[-1]


def verify_all(batch_size: int = 500) -> Iterator[ChainBreak]:
    """Each break in any case's chain, checked against the chain alone (``checkpoints.verify``
    also holds the chains to the last signed checkpoint)."""
    for chain in recompute_chains(batch_size):
        if chain.broken:
            yield chain.broken
