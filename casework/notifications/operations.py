"""Writing notifications into the outbox, in the caller's transaction.

``notify_users`` gives each user an inbox row (delivered by being written) and, when mail is
configured and the user has an address, an email row; ``notify_company`` reaches a company's
users and its webhook. Outgoing rows wait for a delivery worker (see ``delivery``).
"""
from __future__ import annotations

from typing import Any, Iterable

from flask import current_app, g, has_request_context
from sqlalchemy import select, update

from casework import clock
from casework.accounts.models import Company, Role, User
from casework.common.errors import NotFound
from casework.extensions import db
from casework.notifications.models import Channel, Notification, NotificationKind
from casework.notifications.templates import render


def _ring_doorbell_after_commit() -> None:
    """Asks for a delivery run once the request commits (the broker is only a doorbell: the
    periodic rescan delivers the rows even if this ring is lost)."""
    if has_request_context():
        g.casework_outbox_written = True


def notify_users(users: Iterable[User], kind: NotificationKind, context: dict[str, Any], *,
                 case_id: int | None = None, workorder_id: int | None = None) -> list[Notification]:
    now = clock.now()
    mail = bool(current_app.config.get("CASEWORK_SMTP_HOST"))
    rows = []
    seen: set[int] = set()
    for user in users:
        if user.id in seen or not user.active:
            continue
        seen.add(user.id)
        subject, body = render(kind.value, user.locale, context)
        rows.append(Notification(channel=Channel.INBOX, kind=kind, user_id=user.id,
                                 case_id=case_id, workorder_id=workorder_id, subject=subject,
                                 body=body, created_at=now, sent_at=now))
        if mail and user.email:
            rows.append(Notification(channel=Channel.EMAIL, kind=kind, user_id=user.id,
                                     address=user.email, case_id=case_id,
                                     workorder_id=workorder_id, subject=subject, body=body,
                                     created_at=now, next_attempt_at=now))
    db.session.add_all(rows)
    if any(row.channel is not Channel.INBOX for row in rows):
        _ring_doorbell_after_commit()
    return rows


def company_users(company: Company) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.company_id == company.id, User.role == Role.COMPANY, User.active.is_(True))))


def notify_company(company: Company, kind: NotificationKind, context: dict[str, Any],
                   payload: dict[str, Any], *, case_id: int | None = None,
                   workorder_id: int | None = None) -> list[Notification]:
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
        rows.append(hook)
        _ring_doorbell_after_commit()
    return rows


def zone_supervisors(zone_id: int) -> list[User]:
    """The supervisors of a zone; when a zone has none, the district's supervisors (those
    attached to no zone), so that an escalation always reaches someone."""
    from casework.accounts.models import user_zones

    in_zone = list(db.session.scalars(
        select(User).join(user_zones, user_zones.c.user_id == User.id)
        .where(user_zones.c.zone_id == zone_id, User.role == Role.SUPERVISOR,
               User.active.is_(True)).order_by(User.id)))
    if in_zone:
        return in_zone
    return [u for u in db.session.scalars(select(User).where(
        User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.id)) if not u.zones]


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
