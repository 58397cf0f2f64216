"""Cases (违建案件) and their append-only, hash-chained history."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint, event, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework import clock
from casework.accounts.models import User
from casework.common.types import StrEnumType, UtcDateTime
from casework.extensions import db
from casework.places.models import Compound, Zone


class CaseKind(str, enum.Enum):
    ILLEGAL_STRUCTURE = "illegal_structure"
    SHED = "shed"

    @property
    def title(self) -> str:
        return {"illegal_structure": "违建", "shed": "配建棚厦"}[self.value]


class AttachmentKind(str, enum.Enum):
    """What a piece of evidence is; the lifecycle's guards ask for some kinds."""

    BEFORE_PHOTO = "before_photo"
    AFTER_PHOTO = "after_photo"
    OWNERSHIP_DOC = "ownership_doc"
    AGREEMENT = "agreement"
    NOTICE = "notice"
    OTHER = "other"


class CaseState(str, enum.Enum):
    IDENTIFIED = "identified"
    OWNERSHIP_VERIFIED = "ownership_verified"
    NEGOTIATED = "negotiated"
    DEMOLISHED = "demolished"
    CLOSED = "closed"
    DISPUTED = "disputed"
    DISMISSED = "dismissed"

    @property
    def title(self) -> str:
        return _STATE_TITLES[self]

    @property
    def is_final(self) -> bool:
        """No deadline runs in a final state (closed can only be reopened by a supervisor)."""
        return self in (CaseState.CLOSED, CaseState.DISMISSED)


_STATE_TITLES = {
    CaseState.IDENTIFIED: "已摸排",
    CaseState.OWNERSHIP_VERIFIED: "产权已核实",
    CaseState.NEGOTIATED: "已协商/已告知",
    CaseState.DEMOLISHED: "已拆除",
    CaseState.CLOSED: "已验收结案",
    CaseState.DISPUTED: "有争议",
    CaseState.DISMISSED: "已撤销",
}


# PostgreSQL only (migration 0012): GIN indexes of the character pairs of the searched text
# (``casework.cases.queries``). The models do not declare them, SQLite has no such index, and
# ``flask db check`` leaves them alone (migrations/env.py).
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_cases_search_bigrams", "ix_cases_owner_bigrams"})

# The "previous hash" of a case's first event.
GENESIS = "0" * 64


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("difficulty BETWEEN 1 AND 5", name="difficulty_range"),
        CheckConstraint("area_m2 IS NULL OR area_m2 >= 0", name="area_not_negative"),
        Index("ix_cases_zone_state", "zone_id", "state"),
        Index("ix_cases_due_at", "due_at"),
        # The case list is newest first, (created_at, id), whole or by one filter: an index
        # in that order for each, so that any page is read straight off it (migration 0012).
        Index("ix_cases_created", "created_at", "id"),
        Index("ix_cases_zone_created", "zone_id", "created_at", "id"),
        Index("ix_cases_state_created", "state", "created_at", "id"),
        Index("ix_cases_compound_created", "compound_id", "created_at", "id"),
        Index("ix_cases_officer_created", "officer_id", "created_at", "id"),
        # The open cases by deadline: the overdue filter's count reads only the overdue
        # entries, not every open case (migration 0016).
        Index("ix_cases_open_due_at", "due_at",
              postgresql_where=text("state NOT IN ('closed', 'dismissed')"),
              sqlite_where=text("state NOT IN ('closed', 'dismissed')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[CaseKind] = mapped_column(StrEnumType(CaseKind, "case_kind"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    address: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    area_m2: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # How far off the phone said the position may be, in metres (geolocation's accuracy).
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[int] = mapped_column(Integer, default=3)
    owner_name: Mapped[str | None] = mapped_column(String(200))
    owner_phone: Mapped[str | None] = mapped_column(String(40))
    owner_id_number: Mapped[str | None] = mapped_column(String(40))
    owner_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[CaseState] = mapped_column(StrEnumType(CaseState, "case_state"))
    state_entered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The survey's own number for the structure (调查编号): a re-imported survey row finds
    # its case by it instead of creating a second one.
    survey_ref: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now,
                                                 onupdate=clock.now)
    # The head of the case's history (its last event's number and hash), kept with the case
    # so that appending an event reads nothing (``casework.cases.history.record_event``).
    history_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    history_hash: Mapped[str] = mapped_column(String(64), default=GENESIS,
                                              server_default=GENESIS)

    zone: Mapped[Zone] = relationship()
    compound: Mapped[Compound] = relationship()
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    # Read by the lifecycle's guards (``casework.cases.operations.guard_input``); written by
    # their own domains (``evidence``, ``workorders``), which depend on cases, not the reverse.
    attachments: Mapped[list["Attachment"]] = relationship(  # noqa: F821
        viewonly=True, order_by="Attachment.id")
    workorders: Mapped[list["WorkOrder"]] = relationship(  # noqa: F821
        viewonly=True, order_by="WorkOrder.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def overdue(self) -> bool:
        return (self.due_at is not None and not self.state.is_final
                and self.due_at <= clock.now())


class CaseEvent(db.Model):
    """One step of a case's history. Rows are never updated or deleted (a database trigger
    refuses it), and each carries the hash of the one before, so ``audit verify`` can tell
    when a row was altered behind the application's back."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    case: Mapped[Case] = relationship()


@event.listens_for(CaseEvent, "before_update")
def _refuse_event_update(mapper, connection, target):
    raise RuntimeError("case events are append-only")


@event.listens_for(CaseEvent, "before_delete")
def _refuse_event_delete(mapper, connection, target):
    raise RuntimeError("case events are append-only")


class CaseRefCounter(db.Model):
    """The last number used in each year's case references (DA-2026-000123)."""

    __tablename__ = "case_ref_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)
