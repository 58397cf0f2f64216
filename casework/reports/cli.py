"""``flask --app casework report backlog|board|progress|officers``: the API's figures at a
terminal, as a table, CSV or the API's own JSON."""
from __future__ import annotations

import json

import click
from sqlalchemy import select

from casework.accounts.models import User
from casework.common.errors import ApiError
from casework.extensions import db
from casework.reports.progress import progress_report
from casework.reports.queries import backlog_report, board_report, officers_report
from casework.reports.tables import as_csv, as_table

REPORTS = {"backlog": backlog_report, "board": board_report, "progress": progress_report,
           "officers": officers_report}


@click.command("report")
@click.argument("name", type=click.Choice(list(REPORTS)))
@click.option("--zone", metavar="CODE", help="Only this zone.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--as", "username", metavar="USERNAME",
              help="See the figures as this user would (their zones); default: the whole district.")
def report_command(name: str, zone: str | None, fmt: str, username: str | None) -> None:
    """Print a report: backlog, board, progress or officers."""
    user = None
    if username is not None:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.UsageError(f"no user {username!r}")
    try:
        report = REPORTS[name](user, zone)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    if fmt == "json":
        click.echo(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(as_csv(name, report), nl=False)
    else:
        click.echo(as_table(name, report))
