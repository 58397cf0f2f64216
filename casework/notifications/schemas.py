"""The JSON shape of an inbox notification."""
from __future__ import annotations

from casework.common.schemas import ListPage, Shape, Timestamp
from casework.notifications.models import NotificationKind


class NotificationOut(Shape):
    id: int
    kind: NotificationKind
    subject: str
    body: str
    case_id: int | None
    workorder_id: int | None
    created_at: Timestamp
    read_at: Timestamp | None


class NotificationPage(ListPage):
    items: list[NotificationOut]
