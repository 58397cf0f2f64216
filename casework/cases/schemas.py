"""Request bodies and the JSON shape of cases and their events."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from casework.accounts.models import User
from casework.cases import lifecycle
from casework.cases.models import Case, CaseEvent, CaseKind, CaseState
from casework.common.schemas import NOT_NULL, Lang, PageArgs, Strict

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
    """The history's query string without ``format``: only the download's language."""

    lang: Lang | None = None


class CaseQuery(PageArgs):
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


def case_dict(case: Case, user: User, allowed_triggers: list[str]) -> dict:
    data = {
        "id": case.id,
        "ref": case.ref,
        "kind": case.kind.value,
        "zone_id": case.zone_id,
        "compound_id": case.compound_id,
        "address": case.address,
        "description": case.description,
        "area_m2": case.area_m2,
        "lat": case.lat,
        "lon": case.lon,
        "accuracy_m": case.accuracy_m,
        "difficulty": case.difficulty,
        "owner_unknown": case.owner_unknown,
        "officer_id": case.officer_id,
        "state": case.state.value,
        "state_entered_at": case.state_entered_at.isoformat(),
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "overdue": case.overdue,
        "version": case.version,
        "allowed_triggers": allowed_triggers,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }
    if user.sees_personal_data:
        for name in PERSONAL_FIELDS:
            data[name] = getattr(case, name)
    return data


def event_dict(event: CaseEvent) -> dict:
    return {
        "seq": event.seq,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": event.actor,
        "role": event.role,
        "at": event.at.isoformat(),
        "note": event.note,
        "data": event.data,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }
