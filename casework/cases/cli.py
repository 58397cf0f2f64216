"""``flask --app casework audit verify``"""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from casework.cases import checkpoints
from casework.extensions import db

audit_cli = AppGroup("audit", help="Check the integrity of case histories.")


@audit_cli.command("verify")
def verify() -> None:
    """Recompute every case's hash chain and hold it to the last signed checkpoint; name each
    case whose history was altered."""
    report = checkpoints.verify()
    if report.checkpoint is None:
        click.echo("No signed checkpoint yet: the histories are checked only against their own "
                   "hashes (run `flask audit checkpoint`).")
    elif report.checkpoint_problem:
        click.echo(f"FORGED checkpoint {report.checkpoint.id} of "
                   f"{report.checkpoint.created_at.isoformat()}: {report.checkpoint_problem}.")
    else:
        click.echo(f"Held to signed checkpoint {report.checkpoint.id} of "
                   f"{report.checkpoint.created_at.isoformat()} ({report.covered} cases).")
    for problem in report.breaks:
        click.echo(f"ALTERED {problem.ref} (case {problem.case_id}) at event {problem.seq}: "
                   f"{problem.reason}")
    if report.breaks:
        click.echo(f"{len(report.breaks)} of {report.cases} case histories fail verification.",
                   err=True)
    if report.breaks or report.checkpoint_problem:
        sys.exit(1)
    click.echo(f"All {report.cases} case histories verify.")


@audit_cli.command("checkpoint")
def checkpoint() -> None:
    """Sign the head of every case history with the key in CASEWORK_AUDIT_KEY_FILE (beat
    does this daily)."""
    signed = checkpoints.sign_checkpoint()
    db.session.commit()
    click.echo(f"Signed checkpoint {signed.id} of {signed.case_count} case histories "
               f"(key {signed.key_id[:16]}).")


workflow_cli = AppGroup("workflow", help="The case lifecycle.")


@workflow_cli.command("diagram")
def diagram() -> None:
    """Print the lifecycle as a mermaid diagram (the one /api/v1/workflow/diagram.mmd serves)."""
    from casework.cases.lifecycle import mermaid_diagram
    click.echo(mermaid_diagram())
