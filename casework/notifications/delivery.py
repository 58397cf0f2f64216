"""Delivering the outbox: claim a batch of rows with a lease, send each, record every attempt.

Claiming takes up to a batch of due rows in one short transaction: the rows are picked (on
PostgreSQL skipping rows another worker is claiming at that moment; SQLite's writer lock
serialises claims) and marked in one ``UPDATE … RETURNING`` with the claim's token, a lease
(``claimed_until``) and ``sending_since``, returning what the sends need. The sends run outside
any transaction, and each result is recorded on its own right after its send, in one
statement on PostgreSQL (two on SQLite) and one commit, and only while the claim is still
this worker's. A worker that dies leaves its rows claimed; once the lease has run out the next
claim takes them again, and a row taken again with ``sending_since`` still set counts as an
interrupted attempt in its trail (its worker may have sent it before dying). A worker stops
sending before its lease could run out during a send and gives the rest of its batch back.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, insert, or_, select, update

from casework import clock
from casework.accounts.models import Company
from casework.extensions import db
from casework.notifications.channels import SENDERS, DeliveryError, Outgoing
from casework.notifications.models import Channel, DeliveryAttempt, Notification
from casework.settings import setting, settings

log = logging.getLogger(__name__)

BATCH = 100
MAX_BATCHES = 20


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Claim:
    """A worker's hold on some outbox rows, until ``until``."""

    token: str
    until: datetime
    rows: list[Outgoing] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows]


INTERRUPTED = ("The worker stopped while sending, before it recorded the outcome; the "
               "recipient may have received this attempt.")


def claim(batch: int) -> Claim:
    """Takes up to ``batch`` due rows for this worker; commits so others see the claim."""
    now = clock.now()
    lease = timedelta(seconds=setting("CASEWORK_DELIVERY_LEASE_SECONDS"))
    taken = Claim(token=uuid.uuid4().hex, until=now + lease)
    due = (select(Notification.id, Notification.sending_since)
           .where(Notification.channel != Channel.INBOX, Notification.sent_at.is_(None),
                  Notification.failed_at.is_(None), Notification.next_attempt_at <= now,
                  or_(Notification.claimed_until.is_(None), Notification.claimed_until < now))
           .order_by(Notification.next_attempt_at, Notification.id).limit(batch)
           .with_for_update(skip_locked=True))
    picked = db.session.execute(due).all()
    if not picked:
        db.session.commit()
        return taken
    # A row taken again whose last send was never recorded: that send is an attempt too, so
    # the trail matches what the recipient may have received. The rows are locked here.
    interrupted = [{"notification_id": row_id, "at": since, "ok": False,
                    "status": "interrupted", "error": INTERRUPTED, "worker": None}
                   for row_id, since in picked if since is not None]
    if interrupted:
        db.session.execute(insert(DeliveryAttempt), interrupted)
    was_sending = Notification.sending_since.is_not(None)
    rows = db.session.execute(
        update(Notification).where(Notification.id.in_([row_id for row_id, _ in picked]))
        .values(claimed_until=taken.until, claim_token=taken.token, sending_since=now,
                attempts=Notification.attempts + case((was_sending, 1), else_=0),
                last_error=case((was_sending, INTERRUPTED), else_=Notification.last_error))
        .returning(Notification.id, Notification.channel, Notification.kind,
                   Notification.address, Notification.subject, Notification.body,
                   Notification.payload, Notification.created_at, Notification.company_id,
                   Notification.attempts)
        .execution_options(synchronize_session=False)).all()
    company_ids = {row.company_id for row in rows if row.company_id}
    secrets = dict(db.session.execute(
        select(Company.id, Company.webhook_secret).where(Company.id.in_(company_ids))).all()
    ) if company_ids else {}
    db.session.commit()
    taken.rows = sorted(
        (Outgoing(id=row.id, channel=row.channel.value, kind=row.kind.value,
                  address=row.address or "", subject=row.subject, body=row.body,
                  payload=dict(row.payload or {}), created_at=row.created_at,
                  secret=secrets.get(row.company_id), attempts=row.attempts)
         for row in rows), key=lambda row: row.id)
    return taken


def _backoff(attempts: int) -> timedelta:
    config = settings()
    seconds = config["CASEWORK_DELIVERY_BACKOFF_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config["CASEWORK_DELIVERY_BACKOFF_MAX_SECONDS"]))


def _record(outgoing: Outgoing, token: str, status: str | None, error: str | None,
            recorder: Connection | None = None) -> bool:
    """Writes the attempt, and the row's new state if this worker still holds the claim (if
    another worker took the row over, this outcome is an attempt of its own all the same).
    On PostgreSQL both are one statement, sent on ``recorder`` (autocommit: the statement
    is its own transaction, without a BEGIN and a COMMIT to wait for); on SQLite two
    statements and a commit."""
    now = clock.now()
    attempts = outgoing.attempts + 1
    values = {"attempts": Notification.attempts + 1, "claimed_until": None, "claim_token": None,
              "sending_since": None}
    if error is None:
        values.update(sent_at=now, last_error=None)
    elif attempts >= setting("CASEWORK_DELIVERY_MAX_ATTEMPTS"):
        values.update(failed_at=now, last_error=error)
        log.warning("notification %s given up after %s attempts", outgoing.id, attempts)
    else:
        values.update(next_attempt_at=now + _backoff(attempts), last_error=error)
    attempt = insert(DeliveryAttempt).values(
        notification_id=outgoing.id, at=now, ok=error is None, status=status, error=error,
        worker=worker_name())
    row = (update(Notification)
           .where(Notification.id == outgoing.id, Notification.claim_token == token)
           .values(**values).returning(Notification.id)
           .execution_options(synchronize_session=False))
    if recorder is not None:
        # The attempt is written by a data-modifying WITH, which runs whether or not the
        # update finds the row still ours.
        row = row.add_cte(attempt.returning(DeliveryAttempt.id).cte("attempt"))
        ours = recorder.execute(row).first() is not None
    else:
        db.session.execute(attempt)
        ours = db.session.execute(row).first() is not None
        db.session.commit()
    return ours and error is None


@contextmanager
def _recorder() -> Iterator[Connection | None]:
    """On PostgreSQL, a connection in autocommit for the results of a batch."""
    if db.engine.dialect.name != "postgresql":
        yield None
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def deliver_one(outgoing: Outgoing, claimed: Claim, recorder: Connection | None = None) -> bool:
    """Sends one claimed row; True if it was sent and recorded. The send itself runs outside
    any transaction, so a slow server holds no database lock."""
    status = error = None
    try:
        status = SENDERS[outgoing.channel](outgoing)
    except DeliveryError as exc:
        error, status = str(exc), exc.status
    except Exception as exc:  # noqa: BLE001 - one bad row must not stall the outbox
        log.exception("notification %s could not be sent", outgoing.id)
        error = f"{type(exc).__name__}: {exc}"
    return _record(outgoing, claimed.token, status, error, recorder)


def _send_margin() -> timedelta:
    """How long before the lease ends no send is begun: a send's timeout, or half the lease
    when the lease is shorter than two timeouts."""
    config = settings()
    timeout = max(config["CASEWORK_WEBHOOK_TIMEOUT_SECONDS"],
                  config["CASEWORK_SMTP_TIMEOUT_SECONDS"])
    return timedelta(seconds=min(timeout, config["CASEWORK_DELIVERY_LEASE_SECONDS"] / 2))


def deliver_claimed(claimed: Claim) -> tuple[int, bool]:
    """Sends the rows of a claim in order: how many were sent, and whether all were tried.
    A send is begun only well before the lease ends (``_send_margin``); the rows left are
    given back at once for the next claim."""
    sent = 0
    margin = _send_margin()
    with _recorder() as recorder:
        for index, outgoing in enumerate(claimed.rows):
            if clock.now() + margin >= claimed.until:
                _give_back(claimed, claimed.rows[index:])
                return sent, False
            sent += deliver_one(outgoing, claimed, recorder)
    return sent, True


def _give_back(claimed: Claim, rows: list[Outgoing]) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.id.in_([row.id for row in rows]),
               Notification.claim_token == claimed.token)
        .values(claimed_until=None, claim_token=None, sending_since=None)
        .execution_options(synchronize_session=False))
    db.session.commit()


def deliver_batches(batch: int = BATCH, max_batches: int = MAX_BATCHES) -> tuple[int, bool]:
    """Claims and sends due rows until none are left or ``max_batches`` were done: how many
    were sent, and whether more may be waiting (the last batch was full, or given back)."""
    sent = 0
    for _ in range(max_batches):
        claimed = claim(batch)
        if not claimed.rows:
            return sent, False
        done, all_tried = deliver_claimed(claimed)
        sent += done
        if not all_tried:
            return sent, True
        if len(claimed.rows) < batch:
            return sent, False
    return sent, True


def deliver_pending(batch: int = BATCH, max_batches: int = MAX_BATCHES) -> int:
    """Claims and sends due rows until none are left (or ``max_batches`` were done)."""
    return deliver_batches(batch, max_batches)[0]
