"""``Idempotency-Key`` on writes: a retried request with the same key and body gets the first
answer again and changes nothing (officers work on poor mobile networks).

The record (``casework.common.models.IdempotencyRecord``) is written in the same transaction
as the change, so either both exist or neither.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import wraps
from typing import Callable

from flask import g, make_response, redirect, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from casework import clock
from casework.common.errors import ApiError, BadRequest, ValidationFailed
from casework.common.models import IdempotencyRecord
from casework.extensions import db

HEADER = "Idempotency-Key"
# Visible ASCII, as the header's draft standard allows; anything else is a client bug.
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        if any(not name for name in [*request.form.keys(), *request.files.keys()]):
            raise BadRequest("Every part of a multipart/form-data body needs a name.")
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
    if record.location is not None:
        response = redirect(record.location, code=record.status)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    response = make_response(json.loads(record.body), record.status)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _answer_from(record: IdempotencyRecord, fingerprint: str):
    if record.fingerprint != fingerprint:
        raise ValidationFailed(f"This {HEADER} was used for a different request.",
                               code="idempotency_key_reused")
    return replay(record)


def replay_after_race():
    """When two requests with one key race, the loser's commit hits the unique key; it then
    answers with the winner's response (or 422 if the winner's request was another one)."""
    key = getattr(g, "idempotency_key", None)
    user = getattr(g, "user", None)
    if key is None or user is None:
        return None
    record = _find(user.id, key)
    if record is None:
        return None
    try:
        return _answer_from(record, g.idempotency_fingerprint)
    except ValidationFailed as err:
        from casework.common.responses import error_as_response
        return error_as_response(err)


def _first_answer(key: str, fingerprint: str):
    """The answer recorded under ``key`` by an earlier request, once this one's changes are
    rolled back; None when there is none."""
    db.session.rollback()
    first = _find(g.user.id, key)
    return None if first is None else _answer_from(first, fingerprint)


def idempotent(view: Callable) -> Callable:
    """Runs a write once per user and key. Nothing is read first: the view runs and its record
    is written in the same transaction, so a request's key costs one INSERT. A retry (or a
    copy racing the first request) runs into the first one's rows: a stale version, a state
    already left, the key's unique index, or an error of its own. Its changes are then rolled
    back and it is answered from the first request's record, never with that error."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.fullmatch(key):
            raise BadRequest(f"{HEADER} must be 1 to 200 visible ASCII characters "
                             "(a UUID is a good choice).")
        fingerprint = _fingerprint()
        g.idempotency_key, g.idempotency_fingerprint = key, fingerprint
        try:
            response = make_response(view(*args, **kwargs))
            if response.status_code >= 400:
                # A page answers a refusal with a page, not an exception.
                return _first_answer(key, fingerprint) or response
            if response.is_json or response.location:
                # An API answer is kept whole; a page's redirect by where it sends the browser.
                is_redirect = not response.is_json
                db.session.add(IdempotencyRecord(
                    user_id=g.user.id, key=key, fingerprint=fingerprint,
                    status=response.status_code,
                    body="" if is_redirect else response.get_data(as_text=True),
                    location=response.location if is_redirect else None))
                db.session.flush()
        except (ApiError, IntegrityError, StaleDataError):
            answer = _first_answer(key, fingerprint)
            if answer is None:
                raise
            return answer
        return response
    return wrapper


def purge_records(older_than_days: int) -> int:
    """Forgets keys old enough that no client is still retrying with them."""
    from datetime import timedelta

    from sqlalchemy import delete

    cutoff = clock.now() - timedelta(days=older_than_days)
    return db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < cutoff)).rowcount
