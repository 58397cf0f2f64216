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

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from casework import clock
from casework.accounts.models import User
from casework.cases.models import GENESIS, Case, CaseEvent
from casework.extensions import db



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


def record_event(case: Case, trigger: str, from_state: str | None, user: User, *,
                 note: str = "", data: dict[str, Any] | None = None) -> CaseEvent:
    """Appends one event to the case's chain. The caller holds the case (row lock or a new
    row), so its head (``history_seq``, ``history_hash``) is the chain's and nothing is read;
    should it be stale all the same, the unique (case_id, seq) key refuses the event."""
    event = CaseEvent(
        case_id=case.id, seq=case.history_seq + 1, trigger=trigger,
        from_state=from_state, to_state=case.state.value, actor_id=user.id,
        actor=user.username, role=user.role.value,
        at=clock.now(), note=note,
        data=dict(data or {}), prev_hash=case.history_hash,
    )
    event.hash = _hash_of(event)
    _move_head(case, event.seq, event.hash)
    db.session.add(event)
    db.session.flush()
    return event


def _move_head(case: Case, seq: int, hash_: str) -> None:
    if db.session.is_modified(case, include_collections=False):
        # The case's row is written anyway (a transition, an edit): the head goes in the same
        # UPDATE, whose version check already guards it.
        case.history_seq, case.history_hash = seq, hash_
        return
    # An event that leaves the case as it was (a photo attached, a work order's step) moves
    # the head alone and leaves the version and the time of the last change: a client
    # holding that version may still act on the case.
    db.session.execute(update(Case).where(Case.id == case.id)
                       .values(history_seq=seq, history_hash=hash_,
                               updated_at=Case.updated_at)
                       .execution_options(synchronize_session=False))
    set_committed_value(case, "history_seq", seq)
    set_committed_value(case, "history_hash", hash_)


def record_first_events(cases: Iterable[tuple[Case, dict[str, Any]]], trigger: str,
                        user: User) -> None:
    """The first event of each of many new cases, in one batched INSERT: a new case has no
    event before it, so nothing is read and each chain starts from ``GENESIS``. The cases'
    heads follow in one batched UPDATE that leaves their versions alone."""
    at = clock.now()
    rows, heads = [], []
    for case, data in cases:
        row = {"case_id": case.id, "seq": 1, "trigger": trigger, "from_state": None,
               "to_state": case.state.value, "actor_id": user.id, "actor": user.username,
               "role": user.role.value, "at": at, "note": "", "data": dict(data),
               "prev_hash": GENESIS}
        row["hash"] = event_hash(**row)
        rows.append(row)
        heads.append({"head_case": case.id, "head_hash": row["hash"]})
        set_committed_value(case, "history_seq", 1)
        set_committed_value(case, "history_hash", row["hash"])
    if not rows:
        return
    db.session.execute(insert(CaseEvent.__table__), rows)
    _set_first_heads(heads)


def _set_first_heads(heads: list[dict[str, Any]]) -> None:
    """The new cases' heads. On PostgreSQL one UPDATE over two arrays: an executemany would be
    one statement per case, each firing the statement-level triggers on cases again."""
    cases_table = Case.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(
            "UPDATE cases SET history_seq = 1, history_hash = head.hash "
            "FROM unnest(CAST(:ids AS integer[]), CAST(:hashes AS varchar[])) AS head(id, hash) "
            "WHERE cases.id = head.id"),
            {"ids": [h["head_case"] for h in heads], "hashes": [h["head_hash"] for h in heads]})
        return
    db.session.execute(update(cases_table).where(cases_table.c.id == bindparam("head_case"))
                       .values(history_seq=1, history_hash=bindparam("head_hash"),
                               updated_at=cases_table.c.updated_at), heads)


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
