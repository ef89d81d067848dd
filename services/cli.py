"""The ``utskick`` command: database, admin accounts, worker, development server, and each
service's own commands (registered from ``services.mailer.cli`` and ``services.survey.cli``)."""
from __future__ import annotations

import logging
import sys

import click

from shared.config import ConfigError, load_config


def get_config():
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


@click.group()
def main() -> None:
    """Utskick: newsletters and surveys."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    from shared.db import upgrade

    config = get_config()
    upgrade(config.database_url)
    click.echo("database is up to date")


@main.group()
def admin() -> None:
    """Admin accounts."""


@admin.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "editor", "evaluator"]), default="admin", show_default=True)
@click.option("--password", envvar="UTSKICK_ADMIN_PASSWORD", help="Read from a prompt (or stdin) when not given.")
def admin_create(email: str, role: str, password: str | None) -> None:
    """Create an admin account (or set a new password and role for an existing one)."""
    from shared.accounts import AccountError, create_admin
    from shared.db import Database

    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\n")
    database = Database(get_config().database_url)
    try:
        with database.transaction() as session:
            create_admin(session, email, password, role)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{email} can now sign in as {role}")


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
def worker(once: bool) -> None:
    """Deliver mail from the outbox (and newsletter issues) until stopped."""
    from services.worker import run

    done = run(get_config(), once=once)
    if once:
        click.echo(f"worker: {done} mails handled")


@main.command()
def run() -> None:
    """Development: migrate, seed the demo, start both services and the worker."""
    from services.devserver import start

    sys.exit(start(get_config()))


def _register_service_commands() -> None:
    from services.mailer.cli import register as register_mailer
    from services.survey.cli import register as register_survey

    register_mailer(main)
    register_survey(main)


_register_service_commands()


if __name__ == "__main__":
    main()
