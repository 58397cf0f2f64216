"""Delivering the outbox: claim rows with a lease, send each, record every attempt.

Claiming is one statement that marks rows as taken until ``claimed_until`` (PostgreSQL skips
rows another worker is claiming at that moment; SQLite's writer lock serialises claims). A
worker that dies leaves its rows claimed; when the lease runs out they are free again and the
next run sends them. Each send is committed on its own, right after the server accepted it, so
a crash repeats at most the one message that was in flight when it happened.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from casework import clock
from casework.extensions import db
from casework.notifications.channels import DeliveryError, send_email, send_webhook
from casework.notifications.models import Channel, DeliveryAttempt, Notification

log = logging.getLogger(__name__)
SENDERS = {Channel.EMAIL: send_email, Channel.WEBHOOK: send_webhook}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(batch: int) -> tuple[str, list[int]]:
    """Takes up to ``batch`` due rows for this worker; commits so others see the claim."""
    now = clock.now()
    token = uuid.uuid4().hex
    lease = timedelta(seconds=current_app.config["CASEWORK_DELIVERY_LEASE_SECONDS"])
    due = (select(Notification.id)
           .where(Notification.channel != Channel.INBOX, Notification.sent_at.is_(None),
                  Notification.failed_at.is_(None), Notification.next_attempt_at <= now,
                  or_(Notification.claimed_until.is_(None), Notification.claimed_until < now))
           .order_by(Notification.next_attempt_at, Notification.id).limit(batch)
           .with_for_update(skip_locked=True))
    ids = db.session.scalars(
        update(Notification).where(Notification.id.in_(due.scalar_subquery()))
        .values(claimed_until=now + lease, claim_token=token)
        .returning(Notification.id).execution_options(synchronize_session=False)).all()
    db.session.commit()
    return token, sorted(ids)


def _backoff(attempts: int) -> timedelta:
    config = current_app.config
    seconds = config["CASEWORK_DELIVERY_BACKOFF_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config["CASEWORK_DELIVERY_BACKOFF_MAX_SECONDS"]))


def deliver_one(notification_id: int, token: str) -> bool:
    """Sends one claimed row, if this worker still holds its claim; returns True if sent."""
    row = db.session.get(Notification, notification_id, populate_existing=True)
    if row is None or row.claim_token != token or row.sent_at is not None:
        return False
    attempt = DeliveryAttempt(notification_id=row.id, worker=worker_name())
    try:
        attempt.status = SENDERS[row.channel](row)
    except DeliveryError as exc:
        attempt.error, attempt.status = str(exc), exc.status
    attempt.at = clock.now()
    attempt.ok = attempt.error is None
    row.attempts += 1
    if attempt.ok:
        row.sent_at = attempt.at
        row.last_error = None
    else:
        row.last_error = attempt.error
        if row.attempts >= current_app.config["CASEWORK_DELIVERY_MAX_ATTEMPTS"]:
            row.failed_at = attempt.at
            log.warning("notification %s given up after %s attempts", row.id, row.attempts)
        else:
            row.next_attempt_at = attempt.at + _backoff(row.attempts)
    row.claimed_until = None
    row.claim_token = None
    db.session.add(attempt)
    db.session.commit()
    return attempt.ok


def deliver_pending(batch: int = 50, max_batches: int = 20) -> int:
    """Claims and sends due rows until none are left (or ``max_batches`` were done)."""
    sent = 0
    for _ in range(max_batches):
        token, ids = claim(batch)
        if not ids:
            break
        for notification_id in ids:
            sent += deliver_one(notification_id, token)
    return sent
