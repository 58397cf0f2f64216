"""Delivering the outbox: claim rows with a lease, send each, record every attempt.

Claiming is one statement that marks rows as taken until ``claimed_until`` (PostgreSQL skips
rows another worker is claiming at that moment; SQLite's writer lock serialises claims). A
worker that dies leaves its rows claimed; when the lease runs out they are free again and the
next run sends them. Before each send the worker renews its claim (and skips the row if the
lease has run out); the send runs outside any transaction and its result is committed on its
own right after, so a crash repeats at most the one message that was in flight.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update

from casework import clock
from casework.accounts.models import Company
from casework.extensions import db
from casework.notifications.channels import SENDERS, DeliveryError, Outgoing
from casework.notifications.models import Channel, DeliveryAttempt, Notification
from casework.settings import setting, settings

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(batch: int) -> tuple[str, list[int]]:
    """Takes up to ``batch`` due rows for this worker; commits so others see the claim."""
    now = clock.now()
    token = uuid.uuid4().hex
    lease = timedelta(seconds=setting("CASEWORK_DELIVERY_LEASE_SECONDS"))
    due = (select(Notification.id)
           .where(Notification.channel != Channel.INBOX, Notification.sent_at.is_(None),
                  Notification.failed_at.is_(None), Notification.next_attempt_at <= now,
                  or_(Notification.claimed_until.is_(None), Notification.claimed_until < now))
           .order_by(Notification.next_attempt_at, Notification.id).limit(batch)
           .with_for_update(skip_locked=True))
    ids = db.session.scalars(due).all()
    if ids:
        _record_interrupted(ids, now)
        db.session.execute(
            update(Notification).where(Notification.id.in_(ids))
            .values(claimed_until=now + lease, claim_token=token, sending_since=None)
            .execution_options(synchronize_session=False))
    db.session.commit()
    return token, sorted(ids)


INTERRUPTED = ("The worker stopped while sending, before it recorded the outcome; the "
               "recipient may have received this attempt.")


def _record_interrupted(ids: list[int], now) -> None:
    """A row taken again whose last send was never recorded: that send is an attempt too, so
    the trail matches what the company may have received. The rows are locked by the claim."""
    interrupted = db.session.execute(
        select(Notification.id, Notification.sending_since)
        .where(Notification.id.in_(ids), Notification.sending_since.is_not(None))).all()
    if not interrupted:
        return
    db.session.add_all([DeliveryAttempt(notification_id=row_id, at=since, ok=False,
                                        status="interrupted", error=INTERRUPTED,
                                        worker=None) for row_id, since in interrupted])
    db.session.execute(
        update(Notification).where(Notification.id.in_([row_id for row_id, _ in interrupted]))
        .values(attempts=Notification.attempts + 1, last_error=INTERRUPTED)
        .execution_options(synchronize_session=False))


def _backoff(attempts: int) -> timedelta:
    config = settings()
    seconds = config["CASEWORK_DELIVERY_BACKOFF_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config["CASEWORK_DELIVERY_BACKOFF_MAX_SECONDS"]))


def _take(notification_id: int, token: str) -> Outgoing | None:
    """Renews this worker's claim and snapshots the row, in one short transaction; None when
    the claim is lost (the lease ran out and another worker may have the row)."""
    now = clock.now()
    lease = timedelta(seconds=setting("CASEWORK_DELIVERY_LEASE_SECONDS"))
    renewed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.claim_token == token,
               Notification.claimed_until > now, Notification.sent_at.is_(None))
        .values(claimed_until=now + lease, sending_since=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not renewed:
        db.session.commit()
        return None
    row = db.session.get(Notification, notification_id, populate_existing=True)
    company = db.session.get(Company, row.company_id) if row.company_id else None
    outgoing = Outgoing(id=row.id, channel=row.channel.value, kind=row.kind.value,
                        address=row.address or "", subject=row.subject, body=row.body,
                        payload=dict(row.payload or {}), created_at=row.created_at,
                        secret=company.webhook_secret if company else None)
    db.session.commit()
    return outgoing


def _record(outgoing: Outgoing, token: str, status: str | None, error: str | None) -> bool:
    """Writes the attempt and the row's new state, if this worker still holds the claim."""
    now = clock.now()
    row = db.session.get(Notification, outgoing.id, populate_existing=True)
    db.session.add(DeliveryAttempt(notification_id=outgoing.id, at=now, ok=error is None,
                                   status=status, error=error, worker=worker_name()))
    if row.claim_token != token:
        # Another worker took the row over (and recorded this send as interrupted if it
        # started first); this outcome is written as an attempt of its own all the same.
        db.session.commit()
        return False
    row.attempts += 1
    if error is None:
        row.sent_at, row.last_error = now, None
    else:
        row.last_error = error
        if row.attempts >= setting("CASEWORK_DELIVERY_MAX_ATTEMPTS"):
            row.failed_at = now
            log.warning("notification %s given up after %s attempts", row.id, row.attempts)
        else:
            row.next_attempt_at = now + _backoff(row.attempts)
    row.claimed_until = row.claim_token = row.sending_since = None
    db.session.commit()
    return error is None


def deliver_one(notification_id: int, token: str) -> bool:
    """Sends one claimed row; True if it was sent. The send itself runs outside any
    transaction, so a slow server holds no database lock."""
    outgoing = _take(notification_id, token)
    if outgoing is None:
        return False
    status = error = None
    try:
        status = SENDERS[outgoing.channel](outgoing)
    except DeliveryError as exc:
        error, status = str(exc), exc.status
    except Exception as exc:  # noqa: BLE001 - one bad row must not stall the outbox
        log.exception("notification %s could not be sent", notification_id)
        error = f"{type(exc).__name__}: {exc}"
    return _record(outgoing, token, status, error)


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
