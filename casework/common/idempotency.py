"""``Idempotency-Key`` on writes: a retried request with the same key and body gets the first
answer again and changes nothing (officers work on poor mobile networks).

The record is written in the same transaction as the change, so either both exist or neither.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import wraps
from typing import Callable

from flask import g, make_response, request
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from casework import clock
from casework.common.errors import BadRequest, ValidationFailed
from casework.common.types import UtcDateTime
from casework.extensions import db

HEADER = "Idempotency-Key"


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, index=True)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"{name}={value}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest.update(f"{name}:{upload.filename}\n".encode())
            digest.update(upload.stream.read())
            upload.stream.seek(0)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _find(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))


def replay(record: IdempotencyRecord):
    response = make_response(json.loads(record.body), record.status)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def replay_after_race():
    """When two requests with one key race, the loser's commit hits the unique key; it then
    answers with the winner's response."""
    key = getattr(g, "idempotency_key", None)
    user = getattr(g, "user", None)
    if key is None or user is None:
        return None
    record = _find(user.id, key)
    return replay(record) if record is not None else None


def idempotent(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not key.strip() or len(key) > 200:
            raise BadRequest(f"{HEADER} must be 1 to 200 characters.")
        fingerprint = _fingerprint()
        existing = _find(g.user.id, key)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise ValidationFailed(f"This {HEADER} was used for a different request.",
                                       code="idempotency_key_reused")
            return replay(existing)
        g.idempotency_key = key
        response = make_response(view(*args, **kwargs))
        if response.status_code < 400 and response.is_json:
            db.session.add(IdempotencyRecord(user_id=g.user.id, key=key, fingerprint=fingerprint,
                                             status=response.status_code,
                                             body=response.get_data(as_text=True)))
            db.session.flush()
        return response
    return wrapper
