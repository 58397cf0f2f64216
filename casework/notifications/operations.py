"""Writing notifications into the outbox, in the caller's transaction.

``notify_users`` gives each user an inbox row (delivered by being written) and, when mail is
configured and the user has an address, an email row; ``notify_company`` reaches a company's
users and its webhook. Outgoing rows wait for a delivery worker (see ``delivery``).
"""
from __future__ import annotations

import enum
import json
from typing import Any, Iterable

from sqlalchemy import event, insert, select, text, update
from sqlalchemy.orm import Session

from casework import clock
from casework.accounts.models import Company, Role, User
from casework.common.errors import NotFound
from casework.extensions import db
from casework.notifications.models import Channel, Notification, NotificationKind
from casework.notifications.templates import render
from casework.settings import settings


_OUTBOX_WRITTEN = "casework_outbox_written"


def _ring_doorbell_after_commit() -> None:
    """Asks for a delivery run once the transaction commits (the broker is only a doorbell:
    the periodic rescan delivers the rows even if this ring is lost). The mark lives on the
    session, which is the transaction's, so whoever commits it decides whether to ring."""
    db.session.info[_OUTBOX_WRITTEN] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_outbox_written(session: Session) -> None:
    """The mark is about one transaction: once it has ended, a later commit must not ring."""
    session.info.pop(_OUTBOX_WRITTEN, None)


def take_outbox_written(session: Session) -> bool:
    """Whether this session wrote outgoing notifications since last asked (and forget it)."""
    return bool(session.info.pop(_OUTBOX_WRITTEN, False))


def notify_users(users: Iterable[User], kind: NotificationKind, context: dict[str, Any], *,
                 case_id: int | None = None, workorder_id: int | None = None) -> list[dict]:
    """Writes the rows in one statement: every row has the same columns (the inbox's and the
    email's alike), so the batch is one multi-row INSERT, not one INSERT per row."""
    now = clock.now()
    mail = bool(settings().get("CASEWORK_SMTP_HOST"))
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for user in users:
        if user.id in seen or not user.active:
            continue
        seen.add(user.id)
        subject, body = render(kind.value, user.locale, context)
        row = {"channel": Channel.INBOX, "kind": kind, "user_id": user.id, "address": None,
               "case_id": case_id, "workorder_id": workorder_id, "subject": subject,
               "body": body, "created_at": now, "sent_at": now, "next_attempt_at": None}
        rows.append(row)
        if mail and user.email:
            rows.append({**row, "channel": Channel.EMAIL, "address": user.email,
                         "sent_at": None, "next_attempt_at": now})
    if rows:
        # The table, not the ORM's bulk insert: that one leaves out the columns a row holds
        # None in, which splits the batch into one statement per kind of row.
        db.session.execute(insert(Notification.__table__), rows)
    if any(row["channel"] is not Channel.INBOX for row in rows):
        _ring_doorbell_after_commit()
    return rows


def company_users(company: Company) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.company_id == company.id, User.role == Role.COMPANY, User.active.is_(True))))


def notify_company(company: Company, kind: NotificationKind, context: dict[str, Any],
                   payload: dict[str, Any], *, case_id: int | None = None,
                   workorder_id: int | None = None) -> list[dict]:
    """The company's users, and its webhook with ``payload`` (which never carries owners'
    personal data)."""
    rows = notify_users(company_users(company), kind, context, case_id=case_id,
                        workorder_id=workorder_id)
    if company.webhook_url:
        now = clock.now()
        subject, body = render(kind.value, "en", context)
        hook = Notification(channel=Channel.WEBHOOK, kind=kind, company_id=company.id,
                            address=company.webhook_url, case_id=case_id,
                            workorder_id=workorder_id, subject=subject, body=body,
                            payload=payload, created_at=now, next_attempt_at=now)
        db.session.add(hook)
        _ring_doorbell_after_commit()
    return rows


class Outbox:
    """Notifications for many subjects at once (the deadline sweep's), written together
    (one INSERT … SELECT over arrays on PostgreSQL, one executemany on SQLite) instead of
    one statement per row. Each subject's text
    is rendered once per language, whatever the number of its recipients; a company's users
    are read once per company. The rows are the ones ``notify_users`` and ``notify_company``
    write."""

    def __init__(self) -> None:
        self.now = clock.now()
        self.mail = bool(settings().get("CASEWORK_SMTP_HOST"))
        self.rows: list[dict[str, Any]] = []
        self._company_users: dict[int, list[User]] = {}

    def _row(self, channel: Channel, kind: NotificationKind, texts: tuple[str, str], **values):
        subject, body = texts
        row = {"channel": channel, "kind": kind, "user_id": None, "company_id": None,
               "address": None, "case_id": None, "workorder_id": None, "subject": subject,
               "body": body, "payload": {}, "created_at": self.now, "attempts": 0,
               "next_attempt_at": self.now, "sent_at": None}
        row.update(values)
        self.rows.append(row)

    def users(self, users: Iterable[User], kind: NotificationKind, context: dict[str, Any], *,
              case_id: int | None = None, workorder_id: int | None = None) -> None:
        texts: dict[str, tuple[str, str]] = {}
        seen: set[int] = set()
        for user in users:
            if user.id in seen or not user.active:
                continue
            seen.add(user.id)
            if user.locale not in texts:
                texts[user.locale] = render(kind.value, user.locale, context)
            self._row(Channel.INBOX, kind, texts[user.locale], user_id=user.id, case_id=case_id,
                      workorder_id=workorder_id, next_attempt_at=None, sent_at=self.now)
            if self.mail and user.email:
                self._row(Channel.EMAIL, kind, texts[user.locale], user_id=user.id,
                          address=user.email, case_id=case_id, workorder_id=workorder_id)

    def company(self, company: Company, kind: NotificationKind, context: dict[str, Any],
                payload: dict[str, Any], *, case_id: int | None = None,
                workorder_id: int | None = None) -> None:
        if company.id not in self._company_users:
            self._company_users[company.id] = company_users(company)
        self.users(self._company_users[company.id], kind, context, case_id=case_id,
                   workorder_id=workorder_id)
        if company.webhook_url:
            self._row(Channel.WEBHOOK, kind, render(kind.value, "en", context),
                      company_id=company.id, address=company.webhook_url, case_id=case_id,
                      workorder_id=workorder_id, payload=payload)

    def write(self) -> int:
        """Inserts the rows gathered so far (in the caller's transaction)."""
        rows, self.rows = self.rows, []
        if rows:
            if db.engine.dialect.name == "postgresql":
                _insert_unnested(rows)
            else:
                db.session.execute(insert(Notification), rows)
            if any(row["channel"] is not Channel.INBOX for row in rows):
                _ring_doorbell_after_commit()
        return len(rows)


_ARRAYS = {"channel": "varchar", "kind": "varchar", "user_id": "integer",
           "company_id": "integer", "address": "varchar", "case_id": "integer",
           "workorder_id": "integer", "subject": "varchar", "body": "text", "payload": "text",
           "created_at": "timestamptz", "attempts": "integer",
           "next_attempt_at": "timestamptz", "sent_at": "timestamptz"}


def _insert_unnested(rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows in one INSERT … SELECT over one array per column, a statement of
    fourteen parameters whatever the number of rows (a multi-row VALUES of thousands of
    parameters costs more to build and parse than to run)."""
    columns = {name: [] for name in _ARRAYS}
    for row in rows:
        for name, values in columns.items():
            value = row[name]
            if name == "payload":
                value = json.dumps(value, ensure_ascii=False)
            elif isinstance(value, enum.Enum):
                value = value.value
            values.append(value)
    names = ", ".join(_ARRAYS)
    arrays = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _ARRAYS.items())
    selected = ", ".join(f"CAST({name} AS json)" if name == "payload" else name
                         for name in _ARRAYS)
    db.session.execute(text(f"INSERT INTO notifications ({names}) SELECT {selected} "
                            f"FROM unnest({arrays}) AS row({names})"), columns)


def mark_read(user: User, notification_id: int) -> Notification:
    row = db.session.scalar(select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user.id,
        Notification.channel == Channel.INBOX))
    if row is None:
        raise NotFound("No such notification.")
    if row.read_at is None:
        row.read_at = clock.now()
        db.session.flush()
    return row


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id,
                                   Notification.channel == Channel.INBOX,
                                   Notification.read_at.is_(None))
        .values(read_at=clock.now()).execution_options(synchronize_session=False))
    return result.rowcount
