"""``/api/v1/notifications``: the user's in-app inbox."""
from __future__ import annotations

from flask import Blueprint
from pydantic import Field

from casework.accounts.auth import current_user
from casework.common.paging import list_page
from casework.common.requests import query_args
from casework.common.schemas import ListArgs
from casework.notifications import operations
from casework.notifications.models import Notification, NotificationKind
from casework.notifications.queries import INBOX_ORDER, inbox_of

bp = Blueprint("notifications", __name__)


class InboxQuery(ListArgs):
    unread: bool | None = None
    kind: NotificationKind | None = None
    per_page: int = Field(50, ge=1, le=200)


@bp.get("/notifications")
def inbox():
    args = query_args(InboxQuery)
    return list_page(inbox_of(current_user(), unread=args.unread, kind=args.kind), INBOX_ORDER,
                     page=args.page, after=args.after, per_page=args.per_page,
                     serialize=Notification.to_dict)


@bp.post("/notifications/<int:notification_id>/read")
def mark_read(notification_id: int):
    return operations.mark_read(current_user(), notification_id).to_dict()


@bp.post("/notifications/read")
def mark_all_read():
    return {"marked": operations.mark_all_read(current_user())}
