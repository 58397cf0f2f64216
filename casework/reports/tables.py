"""The reports as rows, for the command line's table and CSV (the JSON is the API's own).

The CSV holds every figure of the report, nested keys flattened with dots
(``by_kind.shed.closed``); the table holds the ones a person reads at a terminal.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any, Callable

from pydantic import BaseModel

ALL = "ALL"


def _flat(prefix: str, value: Any, into: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), inner, into)
    else:
        into[prefix] = value
    return into


def _backlog(report: dict) -> list[dict[str, Any]]:
    rows = [{"zone": z["zone"]["code"], "name": z["zone"]["name"],
             **_flat("", {k: v for k, v in z.items() if k != "zone"}, {})}
            for z in report["zones"]]
    rows.append({"zone": ALL, "name": "", **_flat("", report["total"], {})})
    return rows


def _board(report: dict) -> list[dict[str, Any]]:
    return [{"id": c["id"], "zone_id": c["zone_id"], "name": c["name"],
             **_flat("", c["counts"], {}), "total": c["total"], "done": c["done"],
             "done_pct": c["done_pct"], "colour": c["colour"], "overdue": c["overdue"]}
            for c in report["compounds"]]


def _progress(report: dict) -> list[dict[str, Any]]:
    rows = []
    for code, figures in [(z["zone"]["code"], z) for z in report["zones"]] + [(ALL, report["overall"])]:
        summary = {"target": figures["target"], "recent_rate": figures["recent_rate"],
                   "forecast_finish": figures["forecast_finish"] or "",
                   "needed_per_week": figures["needed_per_week"], "at_risk": figures["at_risk"]}
        for week in figures["series"] or [{"week": "", "closed": "", "cumulative_done": "",
                                           "planned": ""}]:
            rows.append({"zone": code, **week, **summary})
    return rows


def _officers(report: dict) -> list[dict[str, Any]]:
    return [{"username": o["user"]["username"], "display_name": o["user"]["display_name"],
             "open": o["open"], "overdue": o["overdue"],
             "done_last_30_days": o["done_last_30_days"]} for o in report["officers"]]


ROWS: dict[str, Callable[[dict], list[dict[str, Any]]]] = {
    "backlog": _backlog, "board": _board, "progress": _progress, "officers": _officers}

# The columns a terminal table shows (the CSV has them all).
TABLE_COLUMNS: dict[str, Callable[[str], bool]] = {
    "backlog": lambda c: not c.startswith(("by_kind.", "oldest_open_days.")),
    "board": lambda c: c != "zone_id",
    "progress": lambda c: True,
    "officers": lambda c: True,
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def as_csv(name: str, report: BaseModel) -> str:
    rows = ROWS[name](report.model_dump(mode="json"))
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return out.getvalue()


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _heading(column: str) -> str:
    for prefix, shown in (("states.", ""), ("open_by_difficulty.", "open d")):
        if column.startswith(prefix):
            return shown + column[len(prefix):]
    return column


def as_table(name: str, report: BaseModel) -> str:
    rows = ROWS[name](report.model_dump(mode="json"))
    if not rows:
        return "(nothing to show)"
    columns = [c for c in rows[0] if TABLE_COLUMNS[name](c)]
    cells = [[_heading(c) for c in columns]] + [[_text(row[c]) for c in columns] for row in rows]
    widths = [max(_width(line[i]) for line in cells) for i in range(len(columns))]
    lines = []
    for n, line in enumerate(cells):
        lines.append("  ".join(cell + " " * (widths[i] - _width(cell))
                               for i, cell in enumerate(line)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
