"""What the deadline sweep and the digest remember: the alerts they have raised."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework import clock
from casework.common.types import UtcDateTime
from casework.extensions import db


class Alert(db.Model):
    """A reminder, escalation or digest that has been raised. Its unique key (subject, the
    deadline or day it is about, kind) is what makes each one happen at most once, however
    many sweeps run at the same time or crash half way."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "occasion", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(20))  # case, workorder, digest
    subject_id: Mapped[int] = mapped_column(Integer)
    occasion: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
