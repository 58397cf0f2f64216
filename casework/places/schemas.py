from __future__ import annotations

from pydantic import Field

from casework.common.schemas import NOT_NULL, PageArgs, Shape, Strict


class ZoneCreate(Strict):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=200)


class CompoundCreate(Strict):
    zone_id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=300)


class CompoundQuery(PageArgs):
    zone_id: int | None = Field(None, ge=1)
    per_page: int = Field(100, ge=1, le=200)


class ZonePatch(Strict):
    name: str = Field(min_length=1, max_length=200)


class CompoundPatch(Strict):
    """Only the fields sent change; neither may be null (the operation refuses it)."""

    partial = True
    name: str | None = Field(None, min_length=1, max_length=200, json_schema_extra=NOT_NULL)
    address: str | None = Field(None, max_length=300, json_schema_extra=NOT_NULL)


class ZoneOut(Shape):
    id: int
    code: str
    name: str


class CompoundOut(Shape):
    id: int
    zone_id: int
    name: str
    address: str
