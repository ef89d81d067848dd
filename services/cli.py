"""The ``utskick`` command: database, admin accounts, worker, development server, and each
service's own commands (each service's ``cli.register`` adds its features' commands)."""

from __future__ import annotations

import logging
import sys

import click

from services.mailer import cli as mailer_cli
from services.survey import cli as survey_cli
from shared.cli import CliContext, pass_cli
from shared.models import Role


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Utskick: newsletters and surveys."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = CliContext()


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_cli
def db_upgrade(cli: CliContext) -> None:
    """Bring the database schema up to date."""
    from shared.db import upgrade

    upgrade(cli.config.database_url)
    click.echo("database is up to date")


@main.group()
def admin() -> None:
    """Admin accounts."""


@admin.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.ADMIN.value, show_default=True)
@click.option("--password", envvar="UTSKICK_ADMIN_PASSWORD", help="Read from a prompt (or stdin) when not given.")
@pass_cli
def admin_create(cli: CliContext, email: str, role: str, password: str | None) -> None:
    """Create an admin account (or set a new password and role for an existing one)."""
    from shared.accounts import AccountError, create_admin

    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\n")
    try:
        with cli.database.transaction() as session:
            create_admin(session, email, password, role)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{email} can now sign in as {role}")


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
@pass_cli
def worker(cli: CliContext, once: bool) -> None:
    """Deliver mail from the outbox (and newsletter issues) until stopped."""
    from services.worker import run

    done = run(cli.config, once=once)
    if once:
        click.echo(f"worker: {done} mails handled")


@main.command()
@pass_cli
def run(cli: CliContext) -> None:
    """Development: migrate, seed the demo, start both services and the worker."""
    from services.devserver import start

    sys.exit(start(cli.config))


mailer_cli.register(main)
survey_cli.register(main)


if __name__ == "__main__":
    main()
