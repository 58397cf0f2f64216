"""Exports of the case list, the work-order list and a case's history, as CSV or XLSX.

Each ``export_*`` takes the user, the list's filters, the format and the language, and returns
an ``Export``: the file's bytes as an iterator, its name and its media type. Rows are read with
a server-side cursor a batch at a time and written as they come, so an export of a million
cases holds no more than one batch in memory. The export is recorded in the export log (and
flushed) before the first byte is produced; the caller commits, then sends the bytes, so no
data leaves without its log entry.

Owners' names, phones and id numbers are exported only to users who see personal data
(officers and supervisors), like the lists themselves.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from casework import clock
from casework.accounts.models import Company, Role, User
from casework.cases import lifecycle
from casework.cases.models import Case, CaseEvent, CaseState
from casework.cases.queries import filtered_cases
from casework.cases.schemas import CaseQuery
from casework.exports import writers
from casework.exports.models import ExportKind, ExportLog
from casework.extensions import db
from casework.places.models import Compound, Zone
from casework.workorders import lifecycle as workorder_lifecycle
from casework.workorders.models import WorkOrder
from casework.workorders.queries import LATE_STATES, filtered_workorders
from casework.workorders.schemas import WorkOrderQuery

BATCH_ROWS = 2000
# Query-string keys that shape a list but not what it holds.
_NOT_FILTERS = {"page", "per_page", "after", "format", "lang"}


@dataclass(frozen=True)
class Export:
    chunks: Iterator[bytes]
    filename: str
    mimetype: str
    rows: int


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    value: Callable[[Any, "Context"], Any]
    width: int = 12
    personal: bool = False
    # Digits Excel must keep as text (phone and id numbers).
    keep_as_text: bool = False


@dataclass(frozen=True)
class Context:
    lang: str
    now: datetime
    zone: Any

    def local(self, moment: datetime | None) -> datetime | None:
        """Local wall-clock time without a zone: what a spreadsheet cell can hold."""
        return moment.astimezone(self.zone).replace(tzinfo=None) if moment else None

    def yes_no(self, value: bool | None) -> Any:
        if value is None:
            return None
        if self.lang == "zh":
            return "是" if value else "否"
        return value

    def title(self, member) -> str | None:
        if member is None:
            return None
        return member.title if self.lang == "zh" else member.value


def _trigger_title(name: str, lang: str) -> str:
    if lang != "zh":
        return name
    if name in lifecycle.BY_NAME:
        return lifecycle.BY_NAME[name].title
    if name.startswith("workorder_"):
        trigger = workorder_lifecycle.BY_NAME.get(name[len("workorder_"):])
        return f"工单{trigger.title}" if trigger else name
    return {"create": "登记", "edit": "修改", "attach": "上传附件",
            "workorder_create": "派发工单"}.get(name, name)


def _state_title(value: str | None, lang: str) -> str | None:
    if value is None or lang != "zh":
        return value
    return CaseState(value).title


OFFICER = aliased(User)

CASE_COLUMNS: tuple[tuple[Column, Any], ...] = (
    (Column("ref", "案件编号", "ref", lambda r, c: r.ref, 16), Case.ref),
    (Column("kind", "类型", "kind", lambda r, c: c.title(r.kind), 10), Case.kind),
    (Column("zone", "片区", "zone", lambda r, c: r.zone_code, 8), Zone.code.label("zone_code")),
    (Column("zone_name", "片区名称", "zone_name", lambda r, c: r.zone_name, 12),
     Zone.name.label("zone_name")),
    (Column("compound", "小区", "compound", lambda r, c: r.compound_name, 14),
     Compound.name.label("compound_name")),
    (Column("address", "地址", "address", lambda r, c: r.address, 24), Case.address),
    (Column("description", "描述", "description", lambda r, c: r.description, 30),
     Case.description),
    (Column("area_m2", "面积", "area_m2", lambda r, c: r.area_m2, 8), Case.area_m2),
    (Column("difficulty", "难度", "difficulty", lambda r, c: r.difficulty, 6), Case.difficulty),
    (Column("state", "状态", "state", lambda r, c: c.title(r.state), 12), Case.state),
    (Column("state_entered_at", "进入状态时间", "state_entered_at",
            lambda r, c: c.local(r.state_entered_at), 19), Case.state_entered_at),
    (Column("due_at", "期限", "due_at", lambda r, c: c.local(r.due_at), 19), Case.due_at),
    (Column("overdue", "逾期", "overdue",
            lambda r, c: c.yes_no(r.due_at is not None and not r.state.is_final
                                  and r.due_at <= c.now), 6), None),
    (Column("officer", "负责人", "officer", lambda r, c: r.officer_name, 14),
     OFFICER.display_name.label("officer_name")),
    (Column("owner_name", "产权人", "owner_name", lambda r, c: r.owner_name, 12, personal=True),
     Case.owner_name),
    (Column("owner_phone", "电话", "owner_phone", lambda r, c: r.owner_phone, 14,
            personal=True, keep_as_text=True), Case.owner_phone),
    (Column("owner_id_number", "身份证号", "owner_id_number", lambda r, c: r.owner_id_number, 20,
            personal=True, keep_as_text=True), Case.owner_id_number),
    (Column("owner_unknown", "产权人不明", "owner_unknown",
            lambda r, c: c.yes_no(r.owner_unknown), 8), Case.owner_unknown),
    (Column("lat", "纬度", "lat", lambda r, c: r.lat, 10), Case.lat),
    (Column("lon", "经度", "lon", lambda r, c: r.lon, 10), Case.lon),
    (Column("survey_ref", "调查编号", "survey_ref", lambda r, c: r.survey_ref, 14),
     Case.survey_ref),
    (Column("created_at", "登记时间", "created_at", lambda r, c: c.local(r.created_at), 19),
     Case.created_at),
    (Column("updated_at", "更新时间", "updated_at", lambda r, c: c.local(r.updated_at), 19),
     Case.updated_at),
    (Column("id", "系统编号", "id", lambda r, c: r.id, 8), Case.id),
)

WORKORDER_COLUMNS: tuple[tuple[Column, Any], ...] = (
    (Column("id", "工单号", "id", lambda r, c: r.id, 8), WorkOrder.id),
    (Column("case_ref", "案件编号", "case_ref", lambda r, c: r.case_ref, 16),
     Case.ref.label("case_ref")),
    (Column("case_kind", "案件类型", "case_kind", lambda r, c: c.title(r.case_kind), 10),
     Case.kind.label("case_kind")),
    (Column("company", "物业公司", "company", lambda r, c: r.company_name, 14),
     Company.name.label("company_name")),
    (Column("kind", "工单类型", "kind", lambda r, c: c.title(r.kind), 12), WorkOrder.kind),
    (Column("state", "状态", "state", lambda r, c: c.title(r.state), 10), WorkOrder.state),
    (Column("due_at", "期限", "due_at", lambda r, c: c.local(r.due_at), 19), WorkOrder.due_at),
    (Column("overdue", "逾期", "overdue",
            lambda r, c: c.yes_no(r.due_at is not None and r.state in LATE_STATES
                                  and r.due_at <= c.now), 6), None),
    (Column("compound", "小区", "compound", lambda r, c: r.compound_name, 14),
     Compound.name.label("compound_name")),
    (Column("address", "地址", "address", lambda r, c: r.case_address, 24),
     Case.address.label("case_address")),
    (Column("note", "说明", "note", lambda r, c: r.note, 30), WorkOrder.note),
    (Column("created_at", "派单时间", "created_at", lambda r, c: c.local(r.created_at), 19),
     WorkOrder.created_at),
    (Column("updated_at", "更新时间", "updated_at", lambda r, c: c.local(r.updated_at), 19),
     WorkOrder.updated_at),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", "seq", lambda e, c: e.seq, 6),
    Column("trigger", "操作", "trigger", lambda e, c: _trigger_title(e.trigger, c.lang), 14),
    Column("from_state", "原状态", "from_state", lambda e, c: _state_title(e.from_state, c.lang), 12),
    Column("to_state", "新状态", "to_state", lambda e, c: _state_title(e.to_state, c.lang), 12),
    Column("actor", "操作人", "actor", lambda e, c: e.actor, 14),
    Column("role", "角色", "role",
           lambda e, c: Role(e.role).title if c.lang == "zh" else e.role, 10),
    Column("at", "时间", "at", lambda e, c: c.local(e.at), 19),
    Column("note", "说明", "note", lambda e, c: e.note, 30),
    Column("data", "数据", "data",
           lambda e, c: json.dumps(e.data, ensure_ascii=False, sort_keys=True), 30),
    Column("prev_hash", "前一记录哈希", "prev_hash", lambda e, c: e.prev_hash, 20),
    Column("hash", "哈希", "hash", lambda e, c: e.hash, 20),
)

_SHEETS = {ExportKind.CASES: ("案件", "cases"), ExportKind.WORKORDERS: ("工单", "workorders"),
           ExportKind.EVENTS: ("案件记录", "events")}


def _filters(args: Any) -> dict[str, Any]:
    data = args.model_dump(mode="json", exclude_none=True) if args is not None else {}
    return {key: value for key, value in data.items() if key not in _NOT_FILTERS}


def log_export(user: User | None, kind: ExportKind, fmt: str, filters: dict[str, Any], rows: int,
               personal_data: bool, case_id: int | None = None) -> ExportLog:
    """Records an export; ``user`` None is the command line run without ``--as``."""
    entry = ExportLog(user_id=user.id if user else None,
                      username=user.username if user else "(command line)",
                      role=user.role.value if user else "admin", kind=kind, format=fmt,
                      filters=filters, case_id=case_id, rows=rows, personal_data=personal_data)
    db.session.add(entry)
    db.session.flush()
    return entry


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def _stream(query: Select, *, scalars: bool = False) -> Iterator[Any]:
    """Every row of the query through a server-side cursor (PostgreSQL) a batch at a time.
    Lazy: the query runs when the first row is asked for, after the caller's commit."""
    result = db.session.execute(query.execution_options(yield_per=BATCH_ROWS))
    try:
        yield from (result.scalars() if scalars else result)
    finally:
        result.close()


def _file(kind: ExportKind, fmt: str, lang: str, columns: Sequence[Column],
          rows: Iterable[Any], suffix: str = "") -> tuple[Iterator[bytes], str, str]:
    context = Context(lang=lang, now=clock.now(), zone=clock.local_zone())
    headings = [getattr(column, lang) for column in columns]
    values = ([column.value(row, context) for column in columns] for row in rows)
    stamp = clock.now().astimezone(context.zone).strftime("%Y%m%d-%H%M%S")
    filename = f"{kind.value}{suffix}-{stamp}.{fmt}"
    if fmt == "csv":
        text = frozenset(i for i, column in enumerate(columns) if column.keep_as_text)
        return writers.csv_chunks(headings, values, text), filename, writers.CSV_MIMETYPE
    zh, en = _SHEETS[kind]
    chunks = writers.xlsx_chunks(zh if lang == "zh" else en, headings, values,
                                 [column.width for column in columns])
    return chunks, filename, writers.XLSX_MIMETYPE


def _columns_for(user: User | None, table: tuple[tuple[Column, Any], ...]
                 ) -> tuple[list[Column], list[Any], bool]:
    personal = user is not None and user.sees_personal_data
    chosen = [(column, expression) for column, expression in table
              if personal or not column.personal]
    columns = [column for column, _ in chosen]
    expressions = [expression for _, expression in chosen if expression is not None]
    return columns, expressions, any(column.personal for column in columns)


def export_cases(user: User | None, filters: CaseQuery, fmt: str, lang: str = "zh") -> Export:
    """The case list with the list's filters, every page of it. ``user`` None (the command
    line without ``--as``) sees the whole district without personal data."""
    return _export_list(
        user, ExportKind.CASES, CASE_COLUMNS, filtered_cases(user or _district_viewer(), filters),
        lambda query: (query.select_from(Case).join(Zone, Zone.id == Case.zone_id)
                       .join(Compound, Compound.id == Case.compound_id)
                       .outerjoin(OFFICER, OFFICER.id == Case.officer_id)),
        _filters(filters), fmt, lang)


def export_workorders(user: User | None, filters: WorkOrderQuery, fmt: str,
                      lang: str = "zh") -> Export:
    """The work-order list with its filters. Work orders never carry owners' personal data
    (a company sees them): none of their columns is personal, so neither is their export."""
    return _export_list(
        user, ExportKind.WORKORDERS, WORKORDER_COLUMNS,
        filtered_workorders(user or _district_viewer(), filters),
        lambda query: (query.select_from(WorkOrder).join(Case, Case.id == WorkOrder.case_id)
                       .join(Compound, Compound.id == Case.compound_id)
                       .join(Company, Company.id == WorkOrder.company_id)),
        _filters(filters), fmt, lang)


def _export_list(user: User | None, kind: ExportKind, table: tuple[tuple[Column, Any], ...],
                 base: Select, joined: Callable[[Select], Select], filters: dict, fmt: str,
                 lang: str) -> Export:
    """A list's export: the list's own query (so its filters and its zones), counted, read
    as only the columns this user may see (``joined`` adds the tables they come from),
    logged with whether personal data left, and streamed as the file."""
    columns, expressions, personal = _columns_for(user, table)
    rows = _count(base)
    query = joined(base.with_only_columns(*expressions, maintain_column_froms=False))
    log_export(user, kind, fmt, filters, rows, personal)
    chunks, filename, mimetype = _file(kind, fmt, lang, columns, _stream(query))
    return Export(chunks, filename, mimetype, rows)


def export_events(user: User, case: Case, fmt: str, lang: str = "zh") -> Export:
    """A case's history, oldest first, as the events endpoint shows it (the caller has
    checked that the user may see the case)."""
    query = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    rows = _count(query)
    log_export(user, ExportKind.EVENTS, fmt, {"case": case.id}, rows, False, case_id=case.id)
    chunks, filename, mimetype = _file(ExportKind.EVENTS, fmt, lang, EVENT_COLUMNS,
                                       _stream(query, scalars=True),
                                       suffix=f"-{case.ref}")
    return Export(chunks, filename, mimetype, rows)


def _district_viewer() -> User:
    """Whom the command line reads as when no user is named: the whole district, as an
    admin sees it (no personal data). Never added to the session."""
    return User(username="(command line)", display_name="(command line)", role=Role.ADMIN,
                password_hash="!")
