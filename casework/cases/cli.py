"""``flask --app casework audit verify``"""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from casework.cases.history import verify_all
from casework.cases.models import Case
from casework.extensions import db

audit_cli = AppGroup("audit", help="Check the integrity of case histories.")


@audit_cli.command("verify")
def verify() -> None:
    """Recompute every case's hash chain; name each case whose history was altered."""
    total = db.session.scalar(select(func.count()).select_from(Case))
    broken = 0
    for problem in verify_all():
        broken += 1
        click.echo(f"ALTERED {problem.ref} (case {problem.case_id}) at event {problem.seq}: "
                   f"{problem.reason}")
    if broken:
        click.echo(f"{broken} of {total} case histories fail verification.", err=True)
        sys.exit(1)
    click.echo(f"All {total} case histories verify.")


workflow_cli = AppGroup("workflow", help="The case lifecycle.")


@workflow_cli.command("diagram")
def diagram() -> None:
    """Print the lifecycle as a mermaid diagram (the one /api/v1/workflow/diagram.mmd serves)."""
    from casework.cases.lifecycle import mermaid_diagram
    click.echo(mermaid_diagram())
