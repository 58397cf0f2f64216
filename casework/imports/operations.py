"""Importing a survey (调查摸底): one case per surveyed structure.

Every row is checked before anything is written. A file with any bad row imports nothing,
unless the caller asks to skip bad rows; either way the answer names each bad row's line,
column and reason. A row whose survey reference (调查编号) is already on a case is not
imported again, so importing the same file twice creates nothing the second time. Unknown
compounds are created in their zone; an unknown zone, or one the user does not work in, is an
error. Cases are created by ``create_cases``, the operation behind ``POST /cases``, a batch
at a time, so references, the first event of each history and its hash are exactly those of a
case recorded by hand; a batch's new compounds are created together just before it.

The file is read twice (check, then write) rather than kept in memory as checked rows: a
100,000-row survey costs one row at a time.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, ContextManager, Iterator, Protocol

from pydantic import ValidationError
from sqlalchemy import select

from casework.accounts.models import Role, User
from casework.cases.models import Case, CaseKind
from casework.cases.operations import create_cases
from casework.cases.schemas import CaseFields
from casework.common.errors import Forbidden, ValidationFailed
from casework.extensions import db
from casework.imports.reading import FIELDS, SurveyFile, problem
from casework.places.models import Compound, Zone
from casework.places.operations import create_compounds

KINDS = {"违建": CaseKind.ILLEGAL_STRUCTURE, "配建棚厦": CaseKind.SHED,
         "illegal_structure": CaseKind.ILLEGAL_STRUCTURE, "shed": CaseKind.SHED}
# Above this, a number in a spreadsheet cell has lost digits: an id number typed as a number.
_EXACT_FLOAT = 2 ** 53
_CASE_FIELDS = ("address", "description", "area_m2", "difficulty", "owner_name",
                "owner_phone", "owner_id_number")
_REF_BATCH = 500
# Cases created per batch: a few statements each, whatever its size.
BATCH_ROWS = 500


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...


ProgressFactory = Callable[[str, int | None], ContextManager[Progress]]


@contextlib.contextmanager
def _no_progress(_phase: str, _total: int | None) -> Iterator[Progress]:
    class _Silent:
        def update(self, n: int = 1) -> None:
            return None

    yield _Silent()


@dataclass
class ImportOutcome:
    dry_run: bool
    skip_invalid: bool
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    already_imported: int = 0
    compounds_created: list[dict[str, str]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Row:
    zone_id: int
    compound_name: str
    survey_ref: str
    fields: dict[str, Any]


class _Checker:
    """Checks rows one by one against the zones, the compounds and the survey references
    seen so far. The same checker logic runs in both passes, so both agree on every row."""

    def __init__(self, user: User, headings: dict[str, str]) -> None:
        self.user = user
        self.headings = headings
        self.zones: dict[str, Zone] = {}
        for zone in db.session.scalars(select(Zone)):
            self.zones.setdefault(zone.code, zone)
            self.zones.setdefault(zone.name, zone)
        self.zone_codes = {zone.id: zone.code for zone in self.zones.values()}
        self.seen_refs: dict[str, int] = {}

    def _problem(self, line: int, key: str, rule: str, message: str) -> dict[str, Any]:
        return problem(line, self.headings.get(key, FIELDS[key][0]), key, rule, message)

    def check(self, line: int, raw: dict[str, Any]) -> tuple[_Row | None, list[dict]]:
        problems: list[dict] = []
        values = {key: _text(value) for key, value in raw.items()}

        zone = None
        zone_text = values.get("zone")
        if not zone_text:
            problems.append(self._problem(line, "zone", "required", "The zone is required."))
        else:
            zone = self.zones.get(zone_text)
            if zone is None or not self.user.can_see_zone(zone.id):
                problems.append(self._problem(line, "zone", "unknown_zone",
                                              f"No zone {zone_text!r} among the zones you "
                                              "work in (give its code or name)."))
        compound = values.get("compound")
        if not compound:
            problems.append(self._problem(line, "compound", "required",
                                          "The compound is required."))
        elif len(compound) > 200:
            problems.append(self._problem(line, "compound", "too_long",
                                          "At most 200 characters."))
        kind_text = values.get("kind") or ""
        kind = KINDS.get(kind_text) or KINDS.get(kind_text.lower())
        if not kind_text:
            problems.append(self._problem(line, "kind", "required", "The kind is required."))
        elif kind is None:
            problems.append(self._problem(line, "kind", "enum",
                                          "One of: 违建, 配建棚厦 (illegal_structure, shed)."))
        survey_ref = values.get("survey_ref")
        if not survey_ref:
            problems.append(self._problem(line, "survey_ref", "required",
                                          "The survey reference is required: it keeps a "
                                          "re-import from creating the case twice."))
        elif len(survey_ref) > 64:
            problems.append(self._problem(line, "survey_ref", "too_long",
                                          "At most 64 characters."))
        elif survey_ref in self.seen_refs and self.seen_refs[survey_ref] != line:
            problems.append(self._problem(line, "survey_ref", "duplicate",
                                          f"Line {self.seen_refs[survey_ref]} has the same "
                                          "survey reference."))
        else:
            self.seen_refs[survey_ref] = line

        number_problems, fields = self._case_fields(line, raw, values)
        problems += number_problems
        if problems:
            return None, problems
        fields["kind"] = kind
        return _Row(zone.id, compound, survey_ref, fields), []

    def _case_fields(self, line: int, raw: dict[str, Any], values: dict[str, str | None]
                     ) -> tuple[list[dict], dict[str, Any]]:
        """The descriptive fields, checked by the same rules as a case created by the API."""
        problems = []
        given = {key: values[key] for key in _CASE_FIELDS if values.get(key) not in (None, "")}
        id_cell = raw.get("owner_id_number")
        if isinstance(id_cell, (int, float)) and not isinstance(id_cell, bool) \
                and abs(id_cell) >= _EXACT_FLOAT:
            problems.append(self._problem(line, "owner_id_number", "stored_as_number",
                                          "The id number is stored as a number and the "
                                          "spreadsheet has rounded it; format the column as "
                                          "text and type it again."))
            given.pop("owner_id_number", None)
        try:
            fields = CaseFields.model_validate(given).model_dump(exclude_unset=True)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_context=False,
                                    include_input=False):
                key = str(error["loc"][0]) if error["loc"] else "description"
                problems.append(self._problem(line, key, error["type"], error["msg"]))
            return problems, {}
        return problems, fields


def _text(value: Any) -> str | None:
    """A cell as text: numbers without a spurious ".0", dates as ISO, text trimmed."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < _EXACT_FLOAT:
            return str(int(value))
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def _existing_refs(refs: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(refs), _REF_BATCH):
        batch = refs[start:start + _REF_BATCH]
        found.update(db.session.scalars(select(Case.survey_ref)
                                        .where(Case.survey_ref.in_(batch))))
    return found


def can_import(user: User) -> bool:
    """Officers (into their zones), supervisors and admins load surveys; companies never."""
    return user.role in (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)


def import_survey(user: User, survey: SurveyFile, *, skip_invalid: bool = False,
                  dry_run: bool = False, progress: ProgressFactory | None = None
                  ) -> ImportOutcome:
    """Checks every row, then (unless ``dry_run``) creates the cases and compounds, flushing
    as it goes; the caller commits once. Raises ``ValidationFailed`` listing every bad row
    when there is one and ``skip_invalid`` is off: nothing has been written then."""
    if not can_import(user):
        raise Forbidden("Only officers, supervisors and admins import surveys.")
    progress = progress or _no_progress
    columns = survey.columns()
    headings = {key: heading for key, (_position, heading) in columns.items()}
    outcome = ImportOutcome(dry_run=dry_run, skip_invalid=skip_invalid)

    checker = _Checker(user, headings)
    bad_lines: set[int] = set()
    with progress("checking", None) as bar:
        for line, raw in survey.rows():
            outcome.rows += 1
            _row, problems = checker.check(line, raw)
            if problems:
                bad_lines.add(line)
                outcome.problems += problems
            bar.update(1)
    outcome.invalid = len(bad_lines)
    outcome.valid = outcome.rows - outcome.invalid
    if bad_lines and not skip_invalid:
        raise ValidationFailed(
            f"{outcome.invalid} of {outcome.rows} rows are invalid; nothing was imported "
            "(fix them, or skip invalid rows).", outcome.problems, code="invalid_rows")

    existing = _existing_refs(list(checker.seen_refs))
    compounds = {(c.zone_id, c.name): c for c in db.session.scalars(select(Compound))}
    writer = _Checker(user, headings)
    new_compounds: set[tuple[int, str]] = set()
    unwritten: list[tuple[int, str]] = []
    batch: list[tuple[tuple[int, str], dict[str, Any]]] = []

    def write() -> None:
        # The batch's new compounds first, all in one flush, then its cases.
        if unwritten:
            compounds.update(create_compounds(unwritten))
            unwritten.clear()
        create_cases(user, [dict(fields, compound_id=compounds[key].id) for key, fields in batch])
        batch.clear()

    with progress("importing" if not dry_run else "dry run", outcome.valid) as bar:
        for line, raw in survey.rows():
            if line in bad_lines:
                continue
            row, _problems = writer.check(line, raw)
            bar.update(1)
            if row is None:  # the file changed between the passes
                raise ValidationFailed("The file changed while it was imported.",
                                       code="invalid_rows")
            if row.survey_ref in existing:
                outcome.already_imported += 1
                continue
            key = (row.zone_id, row.compound_name)
            if key not in compounds and key not in new_compounds:
                new_compounds.add(key)
                unwritten.append(key)
                outcome.compounds_created.append({"zone": writer.zone_codes[row.zone_id],
                                                  "name": row.compound_name})
            outcome.created += 1
            if dry_run:
                continue
            batch.append((key, {**row.fields, "survey_ref": row.survey_ref}))
            if len(batch) >= BATCH_ROWS:
                write()
        if batch:
            write()
    return outcome
