"""Reading a user's in-app inbox."""
from __future__ import annotations

from sqlalchemy import Select, func, select, text

from casework.common.paging import Keyset
from casework.extensions import db
from casework.notifications.models import Channel, Notification, NotificationKind


# Written as the partial index ix_notifications_unread states it, so that both databases see
# that the index answers it (the count every page shows, the unread list).
UNREAD_INBOX = text("channel = 'inbox' AND read_at IS NULL")
# The inbox's order, newest first; its cursors hold (created_at, id).
INBOX_ORDER = Keyset("inbox", (Notification.created_at, Notification.id))


def inbox_of(user, *, unread: bool | None = None, kind: NotificationKind | None = None
             ) -> Select:
    """The user's inbox, newest first; ``unread`` True or False keeps only unread or read."""
    query = (select(Notification)
             .where(Notification.user_id == user.id, Notification.channel == Channel.INBOX)
             .order_by(*INBOX_ORDER.order_by()))
    if unread is not None:
        query = query.where(UNREAD_INBOX if unread else Notification.read_at.is_not(None))
    if kind:
        query = query.where(Notification.kind == kind)
    return query


def unread_count(user) -> int:
    """How many of the user's inbox notifications are unread (every page shows it)."""
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, UNREAD_INBOX)) or 0
