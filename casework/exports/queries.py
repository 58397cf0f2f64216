"""Reading the export log: who took which data out, and whether it held owners' data."""
from __future__ import annotations

from sqlalchemy import Select, select

from casework.accounts.models import User
from casework.common.policy import require_administrator
from casework.exports.models import ExportKind, ExportLog


def export_log(user: User, *, personal_data: bool | None = None, kind: str | None = None,
               user_id: int | None = None) -> Select:
    """The log, newest first; only admins read it (it names who exported owners' data)."""
    require_administrator(user)
    query = select(ExportLog).order_by(ExportLog.created_at.desc(), ExportLog.id.desc())
    if personal_data is not None:
        query = query.where(ExportLog.personal_data.is_(personal_data))
    if kind:
        query = query.where(ExportLog.kind == ExportKind(kind))
    if user_id:
        query = query.where(ExportLog.user_id == user_id)
    return query
