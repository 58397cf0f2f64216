"""Request bodies and the JSON shape of cases and their events."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from casework.accounts.models import User
from casework.cases import lifecycle
from casework.cases.models import Case, CaseEvent, CaseKind, CaseState
from casework.common.schemas import (NOT_NULL, Lang, ListArgs, ListPage, Shape, Strict,
                                     Timestamp)

Phone = Field(None, max_length=40, pattern=r"^[0-9+\-() ]*$")


class CaseFields(Strict):
    """The descriptive fields a case is created with and may later be edited."""

    address: str = Field("", max_length=300)
    description: str = Field("", max_length=10_000)
    area_m2: float | None = Field(None, ge=0, le=100_000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    difficulty: int = Field(3, ge=1, le=5)
    owner_name: str | None = Field(None, max_length=200)
    owner_phone: str | None = Phone
    owner_id_number: str | None = Field(None, max_length=40, pattern=r"^[0-9A-Za-z-]*$")
    owner_unknown: bool = False
    officer_id: int | None = Field(None, ge=1)


class CaseCreate(CaseFields):
    kind: CaseKind
    compound_id: int = Field(ge=1)


class CasePatch(CaseFields):
    partial = True
    expected_version: int = Field(ge=1)
    kind: CaseKind | None = Field(None, json_schema_extra=NOT_NULL)
    compound_id: int | None = Field(None, ge=1, json_schema_extra=NOT_NULL)


# Fields a case reads back with that no client may write.
READ_ONLY_FIELDS = frozenset({"id", "ref", "zone_id", "state", "state_entered_at", "due_at",
                              "overdue", "version", "allowed_triggers", "created_at",
                              "updated_at"})
PERSONAL_FIELDS = ("owner_name", "owner_phone", "owner_id_number")


class TransitionRequest(Strict):
    # The names are documented as an enum; an unknown one is refused by the lifecycle with the
    # list of known triggers (rule known_trigger).
    trigger: str = Field(min_length=1, max_length=40,
                         json_schema_extra={"enum": list(lifecycle.BY_NAME)})
    expected_version: int = Field(ge=1)
    note: str = Field("", max_length=10_000)
    deadline: date | None = None
    method: Literal["self", "company", "enforced"] | None = None


class EventQuery(Strict):
    """The history's query string without ``format``: the download's language, and paging
    for a long history (without ``per_page``, the whole history)."""

    lang: Lang | None = None
    per_page: int | None = Field(None, ge=1, le=1000)
    after: str | None = Field(None, min_length=1, max_length=500, pattern="^[A-Za-z0-9_-]+$")


class CaseQuery(ListArgs):
    state: list[CaseState] | None = None
    zone: str | None = Field(None, max_length=20)
    compound: int | None = Field(None, ge=1)
    kind: CaseKind | None = None
    officer: int | None = Field(None, ge=1)
    overdue: bool | None = None
    q: str | None = Field(None, max_length=100)
    # The language of the list as a download (?format=); a page of JSON does not use it.
    lang: Lang | None = None

    @field_validator("state", mode="before")
    @classmethod
    def _split_states(cls, value):
        if isinstance(value, str):
            return [part for part in value.split(",") if part]
        return value


class CaseOut(Shape):
    """A case as the API answers it. The owner's name, phone and id number are there only for
    those who may see owners' personal data (officers and supervisors)."""

    id: int
    ref: str
    kind: CaseKind
    zone_id: int
    compound_id: int
    address: str
    description: str
    area_m2: float | None
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    difficulty: int
    owner_unknown: bool
    officer_id: int | None
    state: CaseState
    state_entered_at: Timestamp
    due_at: Timestamp | None
    overdue: bool
    version: int
    allowed_triggers: list[Annotated[str, Field(json_schema_extra={"enum": list(lifecycle.BY_NAME)})]]
    created_at: Timestamp
    updated_at: Timestamp
    owner_name: str | None = None
    owner_phone: str | None = None
    owner_id_number: str | None = None


def case_dict(case: Case, user: User, allowed_triggers: list[str]) -> dict:
    shape = CaseOut.model_validate({
        **{name: getattr(case, name) for name in CaseOut.model_fields
           if name != "allowed_triggers"},
        "allowed_triggers": allowed_triggers})
    hidden = set() if user.sees_personal_data else set(PERSONAL_FIELDS)
    return shape.model_dump(mode="json", exclude=hidden)


class EventOut(Shape):
    """One step of a case's history, with the hashes that chain it to the one before."""

    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    at: Timestamp
    note: str
    data: dict[str, Any]
    hash: str
    prev_hash: str


def event_dict(event: CaseEvent) -> dict:
    return EventOut.model_validate(event).model_dump(mode="json")


class CasePage(ListPage):
    items: list[CaseOut]


class EventPage(Shape):
    items: list[EventOut]
    next: str | None = Field(None, description="With per_page: pass as after for the steps "
                                               "that follow; null after the last")
