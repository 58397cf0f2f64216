"""Export query strings and the JSON shape of the export log."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from casework.cases.schemas import CaseQuery, EventQuery
from casework.common.schemas import Format, Lang, PageArgs
from casework.workorders.schemas import WorkOrderQuery



class CaseExportQuery(CaseQuery):
    """The case list's filters and ``format``/``lang``. The list's ``page`` and ``per_page``
    are accepted and ignored: an export is always the whole result."""

    format: Format
    lang: Lang = "zh"


class WorkOrderExportQuery(WorkOrderQuery):
    format: Format
    lang: Lang = "zh"


class EventExportQuery(EventQuery):
    """The history's ``format``/``lang``; its paging is accepted and not used: an export is
    always the whole history."""

    format: Format
    lang: Lang = "zh"


class ExportLogQuery(PageArgs):
    personal_data: bool | None = None
    kind: Literal["cases", "workorders", "events", "dossier"] | None = None
    user: int | None = Field(None, ge=1)


class ExportLogEntry(BaseModel):
    id: int
    user_id: int | None
    username: str
    role: str
    kind: Literal["cases", "workorders", "events", "dossier"]
    format: str
    filters: dict[str, Any]
    case_id: int | None
    rows: int
    personal_data: bool
    created_at: datetime


class ExportLogPage(BaseModel):
    items: list[ExportLogEntry]
    page: int
    per_page: int
    total: int
