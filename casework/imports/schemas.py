"""The form of an import request and the JSON shape of its answer."""
from __future__ import annotations

from pydantic import BaseModel, Field

from casework.common.schemas import Strict


class ImportForm(Strict):
    """The multipart fields besides ``file``: ``skip_invalid`` imports the good rows of a
    file with bad ones; ``dry_run`` checks and reports without writing."""

    skip_invalid: bool = False
    dry_run: bool = False


class ImportProblem(BaseModel):
    line: int = Field(description="Row number as a spreadsheet shows it; the heading is 1")
    column: str | None = Field(description="The column's heading as written in the file")
    field: str | None
    rule: str
    message: str


class CompoundCreated(BaseModel):
    zone: str
    name: str


class ImportResult(BaseModel):
    dry_run: bool
    skip_invalid: bool
    rows: int = Field(description="Structure rows in the file (blank lines not counted)")
    valid: int
    invalid: int
    created: int = Field(description="Cases created (on a dry run: that would be created)")
    already_imported: int = Field(description="Valid rows whose survey_ref is already a case's")
    compounds_created: list[CompoundCreated]
    problems: list[ImportProblem] = Field(description="Every bad row's problems (skipped rows)")
