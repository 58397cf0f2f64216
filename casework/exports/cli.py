"""``flask --app casework export cases|workorders --format csv|xlsx [filters] -o FILE``"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import click
from flask.cli import AppGroup
from pydantic import ValidationError
from sqlalchemy import select

from casework.accounts.models import User
from casework.cases.models import CaseKind, CaseState
from casework.common.errors import ApiError
from casework.exports import operations
from casework.exports.schemas import CaseExportQuery, WorkOrderExportQuery
from casework.extensions import db
from casework.workorders.models import WorkOrderKind, WorkOrderState

export_cli = AppGroup("export", help="Export a list to CSV or XLSX.")


def _common(command: Callable) -> Callable:
    for option in reversed((
        click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True),
        click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                     help="Language of the column headings and values."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                     required=True, help="The file to write."),
        click.option("--as", "as_user", metavar="USERNAME",
                     help="Export as this user sees the list (officers and supervisors get "
                          "owners' personal data, and the export is logged under their "
                          "name). Without it: the whole district, no personal data."),
    )):
        command = option(command)
    return command


def _user(username: str | None) -> User | None:
    if username is None:
        return None
    user = db.session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        raise click.UsageError(f"no active user {username!r}")
    return user


def _write(export: operations.Export, output: str) -> None:
    """Commits the log entry, then writes the file next to its target and renames it into
    place, so a failed export leaves no half-written file behind."""
    db.session.commit()
    target = Path(output)
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}-")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in export.chunks:
                handle.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {export.rows} rows to {target}")


def _run(make: Callable[[], operations.Export], output: str) -> None:
    try:
        export = make()
    except ApiError as exc:
        db.session.rollback()
        raise click.UsageError(exc.message) from None
    _write(export, output)


def _query(schema, values: dict[str, Any]):
    try:
        return schema.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise click.UsageError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                         for e in exc.errors())) from None


@export_cli.command("cases")
@_common
@click.option("--state", "states", multiple=True, type=click.Choice([s.value for s in CaseState]))
@click.option("--zone", help="Zone code.")
@click.option("--compound", type=int, help="Compound id.")
@click.option("--kind", type=click.Choice([k.value for k in CaseKind]))
@click.option("--officer", type=int, help="Officer's user id.")
@click.option("--overdue/--not-overdue", default=None)
@click.option("--q", help="Search text.")
def export_cases(fmt: str, lang: str, output: str, as_user: str | None, states: tuple[str, ...],
                 zone: str | None, compound: int | None, kind: str | None,
                 officer: int | None, overdue: bool | None, q: str | None) -> None:
    """Export the cases the list shows with these filters."""
    user = _user(as_user)
    args = _query(CaseExportQuery, {"format": fmt, "lang": lang, "state": list(states) or None,
                                    "zone": zone, "compound": compound, "kind": kind,
                                    "officer": officer, "overdue": overdue, "q": q})
    _run(lambda: operations.export_cases(user, args, fmt, lang), output)


@export_cli.command("workorders")
@_common
@click.option("--state", type=click.Choice([s.value for s in WorkOrderState]))
@click.option("--case", type=int, help="Case id.")
@click.option("--company", type=int, help="Company id.")
@click.option("--kind", type=click.Choice([k.value for k in WorkOrderKind]))
@click.option("--overdue/--not-overdue", default=None)
def export_workorders(fmt: str, lang: str, output: str, as_user: str | None,
                      state: str | None, case: int | None, company: int | None,
                      kind: str | None, overdue: bool | None) -> None:
    """Export the work orders the list shows with these filters."""
    user = _user(as_user)
    args = _query(WorkOrderExportQuery, {"format": fmt, "lang": lang, "state": state,
                                         "case": case, "company": company, "kind": kind,
                                         "overdue": overdue})
    _run(lambda: operations.export_workorders(user, args, fmt, lang), output)
