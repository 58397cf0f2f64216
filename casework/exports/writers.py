"""Streaming CSV and XLSX writers: rows in, bytes out, memory flat however many rows.

CSV goes out as it is written, in chunks. An XLSX file is a ZIP whose directory comes last,
so it cannot be sent before it is finished: XlsxWriter in ``constant_memory`` mode writes each
row to a temporary file as it comes (one row in memory at a time), and the finished workbook
is then sent from disk in chunks and deleted.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from datetime import datetime
from typing import Any, Iterable, Iterator, Sequence

import xlsxwriter

CHUNK_BYTES = 64 * 1024
# An XLSX sheet holds 1,048,576 rows; the heading takes one.
XLSX_MAX_ROWS = 1_048_575
# Excel runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv_cell(value: Any, keep_as_text: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str):
        if keep_as_text and value:
            # Excel turns an 18-digit id number into 1.10105E+17 and loses its last digits;
            # a leading tab makes it keep the text as it is.
            return "\t" + value
        if value.startswith(FORMULA_START):
            return "'" + value
    return value


def csv_chunks(headings: Sequence[str], rows: Iterable[Sequence[Any]],
               text_columns: frozenset[int] = frozenset()) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings)
    pending = "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    yield pending.encode("utf-8")
    for row in rows:
        writer.writerow([_csv_cell(value, i in text_columns) for i, value in enumerate(row)])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(path: str, sheet_name: str, headings: Sequence[str],
               rows: Iterable[Sequence[Any]], widths: Sequence[int] = ()) -> int:
    """Writes the rows to an XLSX file at ``path``; past one sheet's capacity the rows go on
    in a second sheet (with the heading again). Returns the number of rows written."""
    workbook = xlsxwriter.Workbook(path, {
        "constant_memory": True,
        "tmpdir": os.path.dirname(path),
        # Text is text: a description starting with "=" is not a formula, an address is not a
        # link, a phone number is not a number.
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "default_date_format": "yyyy-mm-dd hh:mm:ss",
    })
    bold = workbook.add_format({"bold": True})
    count = 0
    sheet = None
    row_number = XLSX_MAX_ROWS
    try:
        for row in rows:
            if row_number >= XLSX_MAX_ROWS:
                suffix = f" ({len(workbook.worksheets()) + 1})" if sheet is not None else ""
                sheet = workbook.add_worksheet(f"{sheet_name}{suffix}"[:31])
                sheet.write_row(0, 0, headings, bold)
                sheet.freeze_panes(1, 0)
                for column, width in enumerate(widths):
                    sheet.set_column(column, column, width)
                row_number = 0
            row_number += 1
            sheet.write_row(row_number, 0, row)
            count += 1
        if sheet is None:
            sheet = workbook.add_worksheet(sheet_name[:31])
            sheet.write_row(0, 0, headings, bold)
    finally:
        workbook.close()
    return count


def xlsx_chunks(sheet_name: str, headings: Sequence[str], rows: Iterable[Sequence[Any]],
                widths: Sequence[int] = ()) -> Iterator[bytes]:
    """The workbook written to a temporary file, then read back in chunks and deleted."""
    with tempfile.TemporaryDirectory(prefix="casework-export-") as directory:
        path = os.path.join(directory, "export.xlsx")
        write_xlsx(path, sheet_name, headings, rows, widths)
        yield from file_chunks(path)


def file_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
