"""What the reports read instead of every case: counts kept exact by database triggers, and
partial indexes of the open and the finished cases for the figures that depend on the time.

- ``case_counts``: how many cases there are per (zone, compound, officer, state, kind,
  difficulty). A few thousand rows for a district of a million cases.
- ``case_closures``: how many cases entered a final state (closed, dismissed) per (zone,
  state, UTC hour, officer). The progress chart's weeks and the "last 30 days" are sums of
  hours; the part of an hour a boundary cuts is counted from ``ix_cases_done_at``.
- ``officer_id`` is 0 for a case with no officer (a key column cannot be NULL).

The triggers (migration 0014) keep both tables equal to what a ``GROUP BY`` over ``cases``
would give after every INSERT, UPDATE and DELETE on cases, however the rows are written (the
application, a bulk ``INSERT ... SELECT``, a hand-written ``UPDATE``): on PostgreSQL one
statement-level trigger per statement, from its transition tables, adding each key's change
in key order (so concurrent writers lock count rows in the same order and cannot deadlock on
them); on SQLite row triggers. ``TRUNCATE`` bypasses them: truncate both tables with cases.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.cases.models import Case
from casework.common.types import UtcDateTime
from casework.extensions import db

# Written as the partial indexes state them, so that both databases see that they answer.
OPEN_CASE = text("state NOT IN ('closed', 'dismissed')")
DONE_CASE = text("state IN ('closed', 'dismissed')")
NO_OFFICER = 0


class CaseCount(db.Model):
    __tablename__ = "case_counts"

    zone_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    compound_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    officer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    difficulty: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


class CaseClosure(db.Model):
    __tablename__ = "case_closures"

    zone_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The start of the UTC hour in which the case entered ``state``.
    hour: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    officer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


# The open cases (far fewer than all once a campaign is under way), by zone and deadline, with
# what the overdue figures group by: an index-only scan counts the overdue cases of a zone.
ix_cases_open_due = Index(
    "ix_cases_open_due", Case.zone_id, Case.due_at,
    postgresql_include=["compound_id", "officer_id", "state", "kind", "difficulty"],
    postgresql_where=OPEN_CASE, sqlite_where=OPEN_CASE)
# The oldest open case of each zone and state: the first entry of its range.
ix_cases_open_created = Index(
    "ix_cases_open_created", Case.zone_id, Case.state, Case.created_at,
    postgresql_where=OPEN_CASE, sqlite_where=OPEN_CASE)
# The finished cases by the time they finished: the part of an hour a boundary cuts.
ix_cases_done_at = Index(
    "ix_cases_done_at", Case.state_entered_at,
    postgresql_include=["zone_id", "officer_id", "state"],
    postgresql_where=DONE_CASE, sqlite_where=DONE_CASE)
