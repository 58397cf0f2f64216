"""Signed checkpoints of every case's history, so that even someone who can write to the
database cannot rewrite a history unseen.

The hash chain alone is plain SHA-256: whoever can update rows can recompute every hash after
the one they changed. A checkpoint lists each chain's head (case, last event, its hash) and is
signed with an Ed25519 key kept in a file outside the database (``CASEWORK_AUDIT_KEY_FILE``).
``audit verify`` then checks that every chain still passes through the head the last
checkpoint signed: a rewritten history no longer does, and a forged checkpoint does not carry
a valid signature.

A checkpoint never blesses a broken chain: a case whose history fails verification keeps the
head of the previous checkpoint (or none), so it stays reported until someone looks into it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from casework import clock
from casework.cases.history import ChainBreak, recompute_chains
from casework.common.types import UtcDateTime
from casework.extensions import db
from casework.settings import setting


class AuditCheckpoint(db.Model):
    """A signed list of every chain's head. ``payload`` is the exact text that was signed."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    case_count: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))


# Signing key ---------------------------------------------------------------------------------

def _key_path() -> Path:
    return Path(setting("CASEWORK_AUDIT_KEY_FILE"))


def signing_key() -> Ed25519PrivateKey:
    """The key in ``CASEWORK_AUDIT_KEY_FILE``, made on first use: readable by its owner only,
    and created exclusively so that two processes starting at once cannot make two keys."""
    path = _key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; use that one
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


# Signing and checking ------------------------------------------------------------------------

def latest() -> AuditCheckpoint | None:
    return db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))


def _signed_heads(checkpoint: AuditCheckpoint) -> dict[int, tuple[str, int, str]]:
    heads = json.loads(checkpoint.payload)["heads"]
    return {case_id: (ref, seq, digest) for case_id, ref, seq, digest in heads}


def signature_problem(checkpoint: AuditCheckpoint, public_key: Ed25519PublicKey) -> str | None:
    if checkpoint.key_id != key_id(public_key):
        return "it was signed with another key than CASEWORK_AUDIT_KEY_FILE's"
    try:
        public_key.verify(base64.b64decode(checkpoint.signature), checkpoint.payload.encode())
    except (InvalidSignature, ValueError):
        return "its signature does not match its content"
    return None


@dataclass
class Report:
    """What ``verify`` found: each altered case, and which checkpoint it was held to."""
    breaks: list[ChainBreak] = field(default_factory=list)
    cases: int = 0
    checkpoint: AuditCheckpoint | None = None
    checkpoint_problem: str | None = None
    covered: int = 0  # cases whose head the checkpoint signed


def verify() -> Report:
    """Recomputes every chain and holds each to the head the last checkpoint signed."""
    report = Report(checkpoint=latest())
    signed: dict[int, tuple[str, int, str]] = {}
    if report.checkpoint is not None:
        report.checkpoint_problem = signature_problem(report.checkpoint,
                                                      signing_key().public_key())
        if report.checkpoint_problem is None:
            signed = _signed_heads(report.checkpoint)
    for chain in recompute_chains():
        report.cases += 1
        head = signed.pop(chain.case_id, None)
        if chain.broken:
            report.breaks.append(chain.broken)
        elif head is not None:
            report.covered += 1
            _, seq, digest = head
            if chain.hashes.get(seq) != digest:
                report.breaks.append(ChainBreak(
                    chain.case_id, chain.ref, seq,
                    "the history differs from the signed checkpoint (rewritten with new hashes)"))
    for case_id, (ref, seq, _) in signed.items():
        report.breaks.append(ChainBreak(case_id, ref, seq,
                                        "the case is in the signed checkpoint but is gone"))
    return report


def sign_checkpoint() -> AuditCheckpoint:
    """Signs every chain's head. The caller commits."""
    key = signing_key()
    previous = latest()
    carried: dict[int, tuple[str, int, str]] = {}
    if previous is not None and signature_problem(previous, key.public_key()) is None:
        carried = _signed_heads(previous)
    heads = []
    for chain in recompute_chains():
        carried_head = carried.pop(chain.case_id, None)
        if chain.broken or (carried_head and chain.hashes.get(carried_head[1]) != carried_head[2]):
            if carried_head:
                heads.append([chain.case_id, *carried_head])
            continue
        seq, digest = chain.head
        heads.append([chain.case_id, chain.ref, seq, digest])
    # Cases deleted since the last checkpoint stay in it, and so stay reported.
    heads.extend([case_id, *head] for case_id, head in carried.items())
    now = clock.now()
    payload = json.dumps({"created_at": now.isoformat(timespec="microseconds"),
                          "heads": heads}, ensure_ascii=False, separators=(",", ":"))
    checkpoint = AuditCheckpoint(
        created_at=now, case_count=len(heads), key_id=key_id(key.public_key()),
        payload=payload, signature=base64.b64encode(key.sign(payload.encode())).decode())
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint
