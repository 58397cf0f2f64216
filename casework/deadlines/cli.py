"""``flask --app casework sweep`` and ``flask --app casework deliver``."""
from __future__ import annotations

import click

from casework.deadlines.operations import sweep
from casework.extensions import db
from casework.notifications.delivery import deliver_pending


@click.command("sweep")
@click.option("--no-deliver", is_flag=True, help="Only write the notifications; leave delivery to the workers.")
def sweep_command(no_deliver: bool) -> None:
    """Run the deadline sweep once: reminders, overdue marks and escalations."""
    report = sweep()
    db.session.commit()
    raised = ", ".join(f"{count} {kind}" for kind, count in sorted(report.raised.items()))
    click.echo(f"Raised: {raised or 'nothing due'}.")
    if not no_deliver:
        click.echo(f"Delivered {deliver_pending()} email and webhook notifications.")


@click.command("deliver")
def deliver_command() -> None:
    """Deliver the notification outbox once (emails and webhooks that are due)."""
    click.echo(f"Delivered {deliver_pending()} email and webhook notifications.")
