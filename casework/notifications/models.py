"""The notification outbox (通知) and the record of every delivery attempt.

A notification row is written in the same transaction as the change that causes it. Inbox rows
are delivered by being written; email and webhook rows wait here until a worker claims and
sends them, so a broker or mail server that is down loses nothing.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from casework import clock
from casework.common.types import StrEnumType, UtcDateTime
from casework.extensions import db


class Channel(str, enum.Enum):
    INBOX = "inbox"
    EMAIL = "email"
    WEBHOOK = "webhook"


class NotificationKind(str, enum.Enum):
    TRANSITION = "transition"
    WORKORDER_ASSIGNED = "workorder_assigned"
    REMINDER = "reminder"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    SECOND_ESCALATION = "second_escalation"
    DIGEST = "digest"
    LOGIN_FAILURES = "login_failures"


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # What a delivery worker scans: unsent rows of the outgoing channels by due time.
        Index("ix_notifications_pending", "sent_at", "failed_at", "next_attempt_at"),
        # The inbox, newest first (created_at, id), and its unread part: the unread count
        # every page shows and the unread list read from a small partial index.
        Index("ix_notifications_inbox", "user_id", "channel", "created_at", "id"),
        Index("ix_notifications_unread", "user_id", "created_at", "id",
              postgresql_where=text("channel = 'inbox' AND read_at IS NULL"),
              sqlite_where=text("channel = 'inbox' AND read_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, "notification_channel"))
    kind: Mapped[NotificationKind] = mapped_column(StrEnumType(NotificationKind, "notification_kind"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    address: Mapped[str | None] = mapped_column(String(500))  # email address or webhook URL
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    workorder_id: Mapped[int | None] = mapped_column(ForeignKey("workorders.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(40))
    # Set when a worker starts sending, cleared when it records the outcome: a row claimed
    # again with this still set was sent by a worker that stopped before recording it.
    sending_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    def to_dict(self) -> dict:
        from casework.notifications.schemas import NotificationOut
        return NotificationOut.model_validate(self).model_dump(mode="json")


class DeliveryAttempt(db.Model):
    """One try at sending an email or webhook: kept for every attempt, success or not."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"),
                                                 index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    ok: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
