"""``flask --app casework users ...``"""
from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup
from sqlalchemy import select

from casework.accounts import operations
from casework.accounts.models import Company, Role, User
from casework.extensions import db
from casework.places.operations import get_or_create_zone

users_cli = AppGroup("users", help="Manage users.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--zone", "zones", multiple=True, help="Zone code; created if it does not exist.")
@click.option("--company", help="Company name (company users); created if it does not exist.")
@click.option("--display-name", help="Name shown to others (default: the username).")
@click.option("--email", help="Address for email notifications.")
@click.option("--locale", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of notifications.")
def create_user(username: str, role: str, password: str, zones: tuple[str, ...],
                company: str | None, display_name: str | None, email: str | None,
                locale: str) -> None:
    """Create USERNAME with a role, a password and zones or a company."""
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise click.UsageError(f"user {username!r} already exists")
    if len(password) < 8:
        raise click.UsageError("the password needs at least 8 characters")
    try:
        user = operations.create_user(
            username, password, Role(role), display_name=display_name,
            zones=[get_or_create_zone(code) for code in zones],
            company=operations.get_or_create_company(company) if company else None)
    except ValueError as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from None
    user.email, user.locale = email, locale
    db.session.commit()
    click.echo(f"created {user.role.value} {user.username} (id {user.id})")


@users_cli.command("list")
def list_users() -> None:
    """List users with their role, zones or company."""
    for user in db.session.scalars(select(User).order_by(User.username)):
        where = ",".join(z.code for z in user.zones) or (user.company.name if user.company else "-")
        click.echo(f"{user.id:>5}  {user.username:<20} {user.role.value:<10} {where}"
                   f"{'' if user.active else '  (inactive)'}")


companies_cli = AppGroup("companies", help="Manage property companies.")


@companies_cli.command("webhook")
@click.argument("name")
@click.argument("url")
def set_webhook(name: str, url: str) -> None:
    """Set company NAME's webhook URL and give it a new signing secret (printed once)."""
    if not url.startswith(("http://", "https://")):
        raise click.UsageError("the URL must start with http:// or https://")
    company = db.session.scalar(select(Company).where(Company.name == name))
    if company is None:
        raise click.UsageError(f"no company named {name!r}")
    company.webhook_url = url
    company.webhook_secret = secrets.token_urlsafe(32)
    db.session.commit()
    click.echo(f"Webhook of {company.name}: {url}")
    click.echo(f"Signing secret (give it to the company; it is not shown again): "
               f"{company.webhook_secret}")


@companies_cli.command("list")
def list_companies() -> None:
    """List companies with their webhook URL."""
    for company in db.session.scalars(select(Company).order_by(Company.name)):
        click.echo(f"{company.id:>5}  {company.name:<20} {company.webhook_url or '-'}")
