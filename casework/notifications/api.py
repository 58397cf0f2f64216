"""``/api/v1/notifications``: the user's in-app inbox."""
from __future__ import annotations

from flask import Blueprint
from pydantic import Field
from sqlalchemy import select

from casework.accounts.auth import current_user
from casework.common.paging import paginate
from casework.common.requests import query_args
from casework.common.schemas import PageArgs
from casework.notifications import operations
from casework.notifications.models import Channel, Notification, NotificationKind

bp = Blueprint("notifications", __name__)


class InboxQuery(PageArgs):
    unread: bool | None = None
    kind: NotificationKind | None = None
    per_page: int = Field(50, ge=1, le=200)


@bp.get("/notifications")
def inbox():
    args = query_args(InboxQuery)
    query = (select(Notification)
             .where(Notification.user_id == current_user().id,
                    Notification.channel == Channel.INBOX)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if args.unread is not None:
        query = query.where(Notification.read_at.is_(None) if args.unread
                            else Notification.read_at.is_not(None))
    if args.kind:
        query = query.where(Notification.kind == args.kind)
    return paginate(query, args.page, args.per_page, Notification.to_dict)


@bp.post("/notifications/<int:notification_id>/read")
def mark_read(notification_id: int):
    return operations.mark_read(current_user(), notification_id).to_dict()


@bp.post("/notifications/read")
def mark_all_read():
    return {"marked": operations.mark_all_read(current_user())}
