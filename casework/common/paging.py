"""Pages of a list.

``paginate`` answers ``{items, page, per_page, total}`` with OFFSET paging and an exact count:
for the short lists (users, compounds, the export log).

``list_page`` serves the lists that grow with the city (cases, work orders, the inbox, a case's
history). A page is asked for by number (``page``, OFFSET: fine for the first pages, what the
web pages use) or by the opaque cursor of the page before (``after``: a keyset condition on the
list's order, as fast on the ten-thousandth page as on the first, and unmoved by rows added
meanwhile). Every answer carries ``next``, the cursor of the following page (null on the last).
Counting a million rows costs more than the page itself, so ``total`` is exact only up to
``CASEWORK_LIST_COUNT_LIMIT``; beyond it ``total_is_estimate`` is true and ``total`` is
PostgreSQL's planner estimate of the list's rows (SQLite has none: there it is the limit plus
one), never less than the limit plus one.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import ColumnElement, Select, bindparam, func, literal_column, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import Executable, ClauseElement

from casework.common.errors import ValidationFailed, problem
from casework.common.schemas import MAX_INT
from casework.common.types import UtcDateTime
from casework.extensions import db
from casework.settings import setting


def paginate(query: Select, page: int, per_page: int, serialize: Callable[[Any], dict]) -> dict:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))
    return {"items": [serialize(row) for row in rows], "page": page, "per_page": per_page,
            "total": total}


@dataclass(frozen=True)
class Keyset:
    """A list's order, unique row by row (its last column is the primary key), in one
    direction: what a cursor holds is the values of these columns in the page's last row."""

    name: str
    columns: tuple[Any, ...]
    descending: bool = True

    def order_by(self) -> list[ColumnElement]:
        return [column.desc() if self.descending else column.asc() for column in self.columns]

    def cursor(self, row: Any) -> str:
        values = [_plain(getattr(row, column.key)) for column in self.columns]
        raw = json.dumps([self.name, *values], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def after(self, cursor: str) -> ColumnElement[bool]:
        """The rows that come after the cursor's row in this order."""
        values = self._decode(cursor)
        bound = tuple_(*(bindparam(None, value, type_=column.type)
                         for column, value in zip(self.columns, values)))
        key = tuple_(*self.columns)
        return key < bound if self.descending else key > bound

    def _decode(self, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            name, *values = json.loads(raw)
            if name != self.name or len(values) != len(self.columns):
                raise ValueError("another list's cursor")
            return [_typed(column, value) for column, value in zip(self.columns, values)]
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise ValidationFailed("The cursor is not one this list gave.", [
                problem("after", "cursor", "Not a cursor of this list: start again from the "
                                           "first page and follow its next.")]) from None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _typed(column: Any, value: Any) -> Any:
    if isinstance(column.type, UtcDateTime):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a time without its zone")
        return moment
    if column.type.python_type is int:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INT:
            raise ValueError("not an id")
        return value
    raise ValueError("a column no cursor is made of")


def list_page(query: Select, keyset: Keyset, *, page: int | None, after: str | None,
              per_page: int, serialize: Callable[[Any], dict], searched: bool = False) -> dict:
    """One page of ``query`` in ``keyset``'s order, by ``after`` (a cursor) or by ``page``
    (a number), with its capped count and the cursor of the page that follows. A ``searched``
    list (words looked for in the text) is first estimated: see ``capped_count``."""
    query = query.order_by(None).order_by(*keyset.order_by())
    if after is not None:
        answer = rows_after(query.where(keyset.after(after)), keyset, per_page, serialize)
    else:
        answer = rows_after(query.offset((page - 1) * per_page), keyset, per_page, serialize)
    if after is None and answer["next"] is None and (answer["items"] or page == 1):
        # The last page by number: the rows before it and on it are all there are, so
        # there is nothing to count (a search that finds one case asks the index once).
        total, estimated = (page - 1) * per_page + len(answer["items"]), False
    else:
        total, estimated = capped_count(query, estimate_first=searched)
    return {**answer, "page": page if after is None else None, "per_page": per_page,
            "total": total, "total_is_estimate": estimated}


def rows_after(query: Select, keyset: Keyset, per_page: int | None,
               serialize: Callable[[Any], dict]) -> dict:
    """``{items, next}``: up to ``per_page`` rows of ``query`` (all of them with None) and the
    cursor of the row after which the next page starts. One row more than the page is read:
    it tells whether another page follows without counting."""
    if per_page is None:
        return {"items": [serialize(row) for row in db.session.scalars(query)], "next": None}
    rows = list(db.session.scalars(query.limit(per_page + 1)))
    following = keyset.cursor(rows[per_page - 1]) if len(rows) > per_page else None
    return {"items": [serialize(row) for row in rows[:per_page]], "next": following}


# A planner's estimate this many times the limit is trusted without counting.
TRUSTED_ESTIMATE = 10


def capped_count(query: Select, *, estimate_first: bool = False) -> tuple[int, bool]:
    """The number of rows ``query`` gives, counted up to the limit; beyond it an estimate
    (and True). With ``estimate_first`` (a search, whose every row costs a text comparison:
    counting 10,000 hits of a common word reads for most of a second), a planner's estimate
    far beyond the limit is answered without counting."""
    limit = setting("CASEWORK_LIST_COUNT_LIMIT")
    if estimate_first:
        estimate = _planner_rows(query)
        if estimate > TRUSTED_ESTIMATE * limit:
            return estimate, True
    rows = (query.order_by(None).with_only_columns(literal_column("1"), maintain_column_froms=True)
            .limit(limit + 1).subquery())
    counted = db.session.scalar(select(func.count()).select_from(rows))
    if counted <= limit:
        return counted, False
    return max(limit + 1, _planner_rows(query)), True


def _planner_rows(query: Select) -> int:
    """PostgreSQL's estimate of how many rows ``query`` gives (0 where there is none)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return 0
    plan = db.session.execute(_Explain(query.order_by(None))).scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <query>`` with the query's parameters bound as for the query."""

    inherit_cache = False

    def __init__(self, query: Select) -> None:
        self.query = query


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler, **kw) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.query, **kw)
