"""The export log: who took which data out of the system, when, and how much of it."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from casework import clock
from casework.common.types import StrEnumType, UtcDateTime
from casework.extensions import db


class ExportKind(str, enum.Enum):
    CASES = "cases"
    WORKORDERS = "workorders"
    EVENTS = "events"
    DOSSIER = "dossier"


class ExportLog(db.Model):
    """One export or dossier download. Every one is recorded, and ``personal_data`` says
    whether it carried owners' names, phones or id numbers (spec section 8: every view of
    personal data in an export is logged). The username and role are copied so that the
    entry still says who it was if the account is later renamed or its role changed."""

    __tablename__ = "export_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    kind: Mapped[ExportKind] = mapped_column(StrEnumType(ExportKind, "export_kind"))
    format: Mapped[str] = mapped_column(String(10))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    rows: Mapped[int] = mapped_column(Integer)
    personal_data: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, index=True)
