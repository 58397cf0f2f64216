"""``flask --app casework import FILE [--skip-invalid] [--dry-run] --as USERNAME``"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Iterator

import click
from sqlalchemy import select
from tqdm import tqdm

from casework.accounts.models import User
from casework.common.errors import ApiError
from casework.extensions import db
from casework.imports.operations import Progress, import_survey
from casework.imports.reading import SurveyFile


@contextlib.contextmanager
def _bar(phase: str, total: int | None) -> Iterator[Progress]:
    with tqdm(total=total, desc=phase, unit=" rows", file=sys.stderr, leave=True,
              mininterval=0.5) as bar:
        yield bar


def _echo_problems(problems: list[dict]) -> None:
    for p in problems:
        column = f" column {p['column']}" if p.get("column") else ""
        click.echo(f"line {p['line']}{column}: {p['message']} ({p['rule']})", err=True)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "as_user", metavar="USERNAME", required=True,
              help="The officer, supervisor or admin recorded as having entered the cases.")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows of a file with bad ones.")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def import_command(path: str, as_user: str, skip_invalid: bool, dry_run: bool,
                   quiet: bool) -> None:
    """Import a survey (调查摸底) from a CSV (UTF-8 or GB18030) or XLSX file.

    Every row is checked first; a file with a bad row imports nothing unless --skip-invalid.
    Rows whose survey reference is already on a case are not imported again."""
    user = db.session.scalar(select(User).where(User.username == as_user, User.active))
    if user is None:
        raise click.UsageError(f"no active user {as_user!r}")
    try:
        survey = SurveyFile(Path(path).read_bytes(), Path(path).name)
        outcome = import_survey(user, survey, skip_invalid=skip_invalid, dry_run=dry_run,
                                progress=None if quiet else _bar)
    except ApiError as exc:
        db.session.rollback()
        if isinstance(exc.details, list) and exc.details and "line" in exc.details[0]:
            _echo_problems(exc.details)
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    _echo_problems(outcome.problems)
    verb = "would create" if dry_run else "created"
    click.echo(f"{outcome.rows} rows: {verb} {outcome.created} cases, "
               f"{outcome.already_imported} already imported, {outcome.invalid} invalid"
               + (" (skipped)" if outcome.invalid else "")
               + (f"; {verb} compounds: " + ", ".join(f"{c['zone']} {c['name']}"
                                                      for c in outcome.compounds_created)
                  if outcome.compounds_created else ""))
