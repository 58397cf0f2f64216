"""Reading a user's in-app inbox."""
from __future__ import annotations

from sqlalchemy import Select, func, select, text

from casework.extensions import db
from casework.notifications.models import Channel, Notification, NotificationKind


def inbox_of(user, *, unread: bool | None = None, kind: NotificationKind | None = None
             ) -> Select:
    """The user's inbox, newest first; ``unread`` True or False keeps only unread or read."""
    query = (select(Notification)
             .where(Notification.user_id == user.id, Notification.channel == Channel.INBOX)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if unread is not None:
        query = query.where(Notification.read_at.is_(None) if unread
                            else Notification.read_at.is_not(None))
    if kind:
        query = query.where(Notification.kind == kind)
    return query


# Written as the partial index ix_notifications_unread states it, so that both databases see
# that the index answers it.
UNREAD_INBOX = text("channel = 'inbox' AND read_at IS NULL")


def unread_count(user) -> int:
    """How many of the user's inbox notifications are unread (every page shows it)."""
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, UNREAD_INBOX)) or 0
