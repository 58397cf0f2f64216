"""Pieces shared by the request schemas of every domain."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
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


class Strict(BaseModel):
    """A request body or query string: unknown fields are refused, strings are trimmed, and no
    value gets past validation that the database could not store or compare (integers beyond
    ``MAX_INT``, text with NUL characters)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return _check_value(value)


class PageArgs(Strict):
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(25, ge=1, le=200)
