"""Reading a survey file (调查摸底表): CSV in UTF-8 (with or without BOM) or GB18030, or XLSX,
with Chinese or English headings, as numbered rows of raw cell values.

Line numbers are the row numbers a spreadsheet shows: the heading is line 1, the first
structure line 2. Reading can be repeated (the import reads the file twice: once to check
every row, once to write), and never holds more than one row of an XLSX sheet in memory.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from casework.common.errors import ApiError, ValidationFailed

# field: (Chinese heading, English heading), in the order of the spec (section 13).
FIELDS: dict[str, tuple[str, str]] = {
    "zone": ("片区", "zone"),
    "compound": ("小区", "compound"),
    "kind": ("类型", "kind"),
    "address": ("地址", "address"),
    "description": ("描述", "description"),
    "area_m2": ("面积", "area_m2"),
    "difficulty": ("难度", "difficulty"),
    "owner_name": ("产权人", "owner_name"),
    "owner_phone": ("电话", "owner_phone"),
    "owner_id_number": ("身份证号", "owner_id_number"),
    "survey_ref": ("调查编号", "survey_ref"),
}
REQUIRED = ("zone", "compound", "kind", "survey_ref")
_BY_HEADING = {name.lower(): key for key, names in FIELDS.items() for name in names}
# "面积（平方米）", "area_m2 (m²)": a unit or note in brackets after the heading is allowed.
_BRACKETED_TAIL = re.compile(r"\s*[(（\[【].*[)）\]】]\s*$")


def problem(line: int, column: str | None, field_name: str | None, rule: str,
            message: str) -> dict[str, Any]:
    """One entry of an import's error list: where (line, column as headed in the file),
    which field, which rule, in words."""
    return {"line": line, "column": column, "field": field_name, "rule": rule,
            "message": message}


def _field_for(heading: str) -> str | None:
    text = _BRACKETED_TAIL.sub("", heading.replace("\ufeff", "").strip()).lower()
    return _BY_HEADING.get(text)


@dataclass
class SurveyFile:
    """An uploaded or local survey file, checked for its type and encoding on creation."""

    data: bytes
    filename: str = ""
    kind: str = field(init=False)
    text: str | None = field(init=False, default=None)
    encoding: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        name = self.filename.lower()
        if not self.data.strip():
            raise ValidationFailed("The file is empty.",
                                   [problem(1, None, None, "not_empty", "The file is empty.")])
        if self.data.startswith(b"PK\x03\x04"):
            self.kind = "xlsx"
        elif name.endswith((".xls", ".xlsm", ".ods")) or self.data.startswith(b"\xd0\xcf\x11\xe0"):
            raise ApiError("Save the survey as .xlsx (Excel 2007 or later) or .csv.",
                           status=415, code="unsupported_media_type")
        else:
            self.kind = "csv"
            self.text, self.encoding = _decode(self.data)

    def headings(self) -> list[str]:
        for _line, cells in self._cells():
            return ["" if c is None else str(c) for c in cells]
        return []

    def _cells(self) -> Iterator[tuple[int, list[Any]]]:
        if self.kind == "csv":
            yield from _csv_cells(self.text or "")
        else:
            yield from _xlsx_cells(self.data)

    def columns(self) -> dict[str, tuple[int, str]]:
        """field → (position, heading as written), or a 422 naming every heading problem."""
        headings = self.headings()
        found: dict[str, tuple[int, str]] = {}
        problems = []
        for position, heading in enumerate(headings):
            if not heading.strip():
                continue
            key = _field_for(heading)
            if key is None:
                problems.append(problem(1, heading, None, "unknown_column",
                                        "Not a survey column; the columns are: " + ", ".join(
                                            f"{zh}/{en}" for zh, en in FIELDS.values())))
            elif key in found:
                problems.append(problem(1, heading, key, "duplicate_column",
                                        f"The column {found[key][1]!r} already gives {key}."))
            else:
                found[key] = (position, heading.strip())
        for key in REQUIRED:
            if key not in found:
                zh, en = FIELDS[key]
                problems.append(problem(1, f"{zh}/{en}", key, "missing_column",
                                        f"The file needs a {zh} ({en}) column."))
        if problems:
            raise ValidationFailed("The file's headings are not a survey's.", problems,
                                   code="invalid_file")
        return found

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line, {field: raw value}) for every line after the heading that is not blank."""
        columns = self.columns()
        cells_iter = self._cells()
        next(cells_iter, None)
        for line, cells in cells_iter:
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            yield line, {key: cells[position] if position < len(cells) else None
                         for key, (position, _) in columns.items()}

    def count(self) -> int:
        return sum(1 for _ in self.rows())


def _decode(data: bytes) -> tuple[str, str]:
    # A GB18030 file is almost never valid UTF-8, and UTF-8 is tried first, so a file that
    # decodes as UTF-8 is UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ValidationFailed("The file is neither UTF-8 nor GB18030 text.",
                           [problem(1, None, None, "encoding",
                                    "Save the CSV as UTF-8 or GB18030 (GBK).")],
                           code="invalid_file")


def _csv_cells(text: str) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 0
    try:
        for record in reader:
            line += 1
            yield line, record
    except csv.Error as exc:
        raise ValidationFailed("The CSV cannot be read.",
                               [problem(line + 1, None, None, "csv", str(exc))],
                               code="invalid_file") from None


def _xlsx_cells(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    # openpyxl raises many kinds of exception on a damaged file (a bad ZIP, missing parts,
    # malformed XML); to the user they all mean the same thing.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(1, exc) from None
    line = 0
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001
                raise _unreadable(line + 1, exc) from None
            line += 1
            yield line, list(row)
    finally:
        workbook.close()


def _unreadable(line: int, exc: Exception) -> ValidationFailed:
    return ValidationFailed("The XLSX file cannot be read.",
                            [problem(line, None, None, "xlsx",
                                     f"Not a readable workbook ({type(exc).__name__}).")],
                            code="invalid_file")
