"""The command line: ``flask --app casework <command>``."""
from flask import Flask


def register_cli(app: Flask) -> None:
    from casework.accounts.cli import companies_cli, users_cli
    from casework.deadlines.cli import deliver_command, sweep_command
    from casework.cases.cli import audit_cli, workflow_cli
    from casework.demo import demo_command
    from casework.exports.cli import export_cli
    from casework.imports.cli import import_command
    from casework.reports.cli import report_command

    app.cli.add_command(users_cli)
    app.cli.add_command(companies_cli)
    app.cli.add_command(sweep_command)
    app.cli.add_command(deliver_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(workflow_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(export_cli)
    app.cli.add_command(import_command)
    app.cli.add_command(report_command)
