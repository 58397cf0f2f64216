"""Pieces shared by the request schemas of every domain."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator
from pydantic_core import PydanticCustomError

# Every integer column is a PostgreSQL INTEGER: a larger id or count can only be a mistake, and
# sent to the database it would fail there (a 500) instead of here (a 422).
MAX_INT = 2**31 - 1


def _check_value(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value > MAX_INT:
            raise PydanticCustomError("less_than_equal",
                                      "Input should be less than or equal to {le}", {"le": MAX_INT})
        if value < -MAX_INT:
            raise PydanticCustomError("greater_than_equal",
                                      "Input should be greater than or equal to {ge}",
                                      {"ge": -MAX_INT})
    elif isinstance(value, str):
        # PostgreSQL text cannot hold U+0000; SQLite could, so refuse it everywhere alike.
        if "\x00" in value:
            raise PydanticCustomError("no_nul_character", "Text may not contain the NUL character")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _check_value(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_value(item)
    return value


# A field that may be left out of a change but not set to null (the operation refuses null):
# ``Field(None, json_schema_extra=NOT_NULL)``. Only the document needs the mark.
NOT_NULL = {"not_null": True}
_NO_NUL = "^[^\\u0000]*$"
# Trimmed, then at least one character: so at least one that is not white space.
_NO_NUL_NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def _document_field(prop: dict[str, Any]) -> None:
    """States in a field's JSON schema what ``_check_value`` and trimming enforce."""
    for option in prop.get("anyOf", []):
        _document_field(option)
    if isinstance(prop.get("items"), dict):
        _document_field(prop["items"])
    if prop.get("type") == "integer":
        prop.setdefault("maximum", MAX_INT)
        prop.setdefault("minimum", -MAX_INT)
    elif prop.get("type") == "string" and not ({"enum", "format", "pattern", "const"} & set(prop)):
        prop["pattern"] = _NO_NUL_NOT_BLANK if prop.get("minLength", 0) >= 1 else _NO_NUL


def _document_storable(schema: dict[str, Any], _model: Any = None) -> None:
    """What the document says of a request model: the limits of the database, that a field
    left out is not the same as null (no ``default: null``; no default at all in a change,
    ``partial``, where a field left out stays as it is), and which fields refuse null."""
    for prop in schema.get("properties", {}).values():
        if prop.pop("not_null", False) and "anyOf" in prop:
            prop["anyOf"] = [o for o in prop["anyOf"] if o.get("type") != "null"]
            if len(prop["anyOf"]) == 1:
                prop.update(prop.pop("anyOf")[0])
        if "default" in prop and (prop["default"] is None or getattr(_model, "partial", False)):
            del prop["default"]
        _document_field(prop)


class Strict(BaseModel):
    """A request body or query string: unknown fields are refused, strings are trimmed, and no
    value gets past validation that the database could not store or compare (integers beyond
    ``MAX_INT``, text with NUL characters). Its JSON schema says so."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra=_document_storable)
    # A change (PATCH): fields left out stay as they are.
    partial: ClassVar[bool] = False

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return _check_value(value)


# The language of a download's headings and values.
Lang = Literal["zh", "en"]
# A list downloaded whole instead of a page of JSON.
Format = Literal["csv", "xlsx"]


class PageArgs(Strict):
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(25, ge=1, le=200)


class ListArgs(PageArgs):
    """A list that grows with the city: a page by number (``page``) or after the cursor of
    the page before (``after``, from its ``next``). A client following ``next`` may keep the
    ``page`` of its first request in the address: with ``after``, ``page`` is not used."""

    after: str | None = Field(None, min_length=1, max_length=500, pattern="^[A-Za-z0-9_-]+$",
                              description="The next of the page before: the page that "
                                          "follows it, however deep (page is then not used)")


class Shape(BaseModel):
    """A response, declared once: it serialises the answer and is the OpenAPI document's schema
    of it. A field with no default is always present (the document marks it required)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


# Written as ``2026-11-26T08:00:00+00:00``, like every other time the API returns.
Timestamp = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str,
                                                when_used="json")]


class ListPage(Shape):
    """One page of a list that grows with the city (``casework.common.paging.list_page``)."""

    page: int | None = Field(description="The page's number; null when asked for by after")
    per_page: int
    total: int = Field(description="How many rows the list holds: exact up to "
                                   "CASEWORK_LIST_COUNT_LIMIT (10,000), beyond it an estimate")
    total_is_estimate: bool = Field(description="True when total is an estimate (the list "
                                                "holds more than CASEWORK_LIST_COUNT_LIMIT)")
    next: str | None = Field(description="Pass as after for the page that follows; null on "
                                         "the last page")
