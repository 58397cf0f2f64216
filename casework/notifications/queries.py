"""Reading a user's in-app inbox."""
from __future__ import annotations

from sqlalchemy import Select, select

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
