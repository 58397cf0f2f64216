"""Query pieces every domain's reads share."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select

from casework.common.errors import NotFound
from casework.extensions import db


def one_or_404(query: Select, message: str, *, lock: Any = None) -> Any:
    """The one row ``query`` finds, or 404. With ``lock`` (a model), the row is locked until
    commit and read afresh: on PostgreSQL concurrent changes of one record then queue, and
    the loser sees the winner's version and is refused with 409."""
    if lock is not None:
        query = query.with_for_update(of=lock).execution_options(populate_existing=True)
    row = db.session.scalar(query)
    if row is None:
        raise NotFound(message)
    return row


def overdue_filter(due_at: Any, running: ColumnElement[bool], overdue: bool,
                   now: datetime) -> ColumnElement[bool]:
    """Rows whose deadline (``due_at``, running while ``running`` holds) has passed, or with
    ``overdue=False`` every other row, those with no deadline included."""
    late = (due_at <= now) & running
    return late if overdue else ~late | due_at.is_(None)
