"""The ``utskick`` command: database, admin accounts, worker, development server, and each
service's own commands (each service's ``cli.register`` adds its features' commands)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from services.mailer import cli as mailer_cli
from services.survey import cli as survey_cli
from shared.cli import ROW_ID, CliContext, pass_cli
from shared.models import AdminUser, ApiScope, Role, WebhookEvent


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
    """Staff accounts: list, create, invite, disable, enable, remove, password."""


def _password_from_user(password: str | None) -> str:
    if password is not None:
        return password
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@contextmanager
def _accounts(cli: CliContext) -> Iterator[Session]:
    """One transaction in the mailer's app context (mail templates, translations); account
    errors become a clear message for the shell."""
    from services.mailer import create_app
    from shared.accounts import AccountError
    from shared.api.keys import ApiKeyError

    try:
        with create_app(cli.config).test_request_context(), cli.database.transaction() as session:
            yield session
    except (AccountError, ApiKeyError) as exc:
        raise click.ClickException(str(exc)) from None


def _account(session: Session, email: str) -> AdminUser:
    from shared.accounts import find_account

    user = find_account(session, email)
    if user is None:
        raise click.ClickException(f"no account with the address {email}")
    return user


@admin.command("list")
@pass_cli
def admin_list(cli: CliContext) -> None:
    """Every account: address, role, status, last sign-in (UTC)."""
    from shared.accounts import list_accounts

    with cli.database.transaction() as session:
        for user in list_accounts(session):
            last = user.last_login_at.strftime("%Y-%m-%dT%H:%MZ") if user.last_login_at else "never"
            click.echo(f"{user.email}\t{user.role}\t{user.status}\t{last}")


@admin.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.ADMIN.value, show_default=True)
@click.option("--password", envvar="UTSKICK_ADMIN_PASSWORD", help="Read from a prompt (or stdin) when not given.")
@pass_cli
def admin_create(cli: CliContext, email: str, role: str, password: str | None) -> None:
    """Create an account with a password (or set a new password and role for an existing one)."""
    from shared.accounts import create_admin

    password = _password_from_user(password)
    with _accounts(cli) as session:
        create_admin(session, cli.passwords, email, password, role)
    click.echo(f"{email} can now sign in as {role}")


@admin.command("invite")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.EDITOR.value, show_default=True)
@pass_cli
def admin_invite(cli: CliContext, email: str, role: str) -> None:
    """Create an account and mail it a one-time link to choose its password (through the outbox)."""
    from shared.accounts import invite
    from shared.tokens import Tokens

    with _accounts(cli) as session:
        invite(session, cli.config, Tokens(cli.config.secret_keys), email, role)
    click.echo(f"invitation to {email} ({role}) is in the outbox; `utskick worker` sends it")


@admin.command("disable")
@click.argument("email")
@pass_cli
def admin_disable(cli: CliContext, email: str) -> None:
    """Stop an account from signing in; its sessions end at once."""
    from shared.accounts import disable

    with _accounts(cli) as session:
        disable(session, None, _account(session, email))
    click.echo(f"{email} is disabled")


@admin.command("enable")
@click.argument("email")
@pass_cli
def admin_enable(cli: CliContext, email: str) -> None:
    """Let a disabled account sign in again."""
    from shared.accounts import enable

    with _accounts(cli) as session:
        enable(session, None, _account(session, email))
    click.echo(f"{email} is enabled")


@admin.command("remove")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_cli
def admin_remove(cli: CliContext, email: str, yes: bool) -> None:
    """Delete an account for good."""
    from shared.accounts import remove

    if not yes:
        click.confirm(f"Remove the account {email} for good?", abort=True)
    with _accounts(cli) as session:
        remove(session, None, _account(session, email))
    click.echo(f"{email} is removed")


@admin.command("password")
@click.argument("email")
@click.option("--password", envvar="UTSKICK_ADMIN_PASSWORD", help="Read from a prompt (or stdin) when not given.")
@pass_cli
def admin_password(cli: CliContext, email: str, password: str | None) -> None:
    """Set a new password for an account; every session of it ends."""
    from shared.accounts import set_password

    with _accounts(cli) as session:
        user = _account(session, email)
        set_password(session, cli.passwords, user, _password_from_user(password))
    click.echo(f"{email} has a new password; its sessions have ended")


@main.group("api-keys")
def api_keys() -> None:
    """Keys for the HTTP API (/api/v1 in each service): create, list, revoke."""


@api_keys.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What uses the key, e.g. the intranet's subscribe box.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([scope.value for scope in ApiScope]),
    help="Repeat for more than one.",
)
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), help="Last day the key works (Swedish time).")
@pass_cli
def api_keys_create(cli: CliContext, email: str, name: str, scopes: tuple[str, ...], expires) -> None:
    """Create a key for the account EMAIL and print it: this is the only time it is shown."""
    from shared.api.keys import create_key, expiry_after_day

    with _accounts(cli) as session:
        new = create_key(
            session, _account(session, email), name, scopes, expiry_after_day(expires.date()) if expires else None
        )
        key_id = new.key.id
    click.echo(new.secret)
    click.echo(f"key {key_id} for {email}: store it now, it is not shown again", err=True)


@api_keys.command("list")
@click.argument("email", required=False)
@pass_cli
def api_keys_list(cli: CliContext, email: str | None) -> None:
    """Keys (of one account, or all): id, account, name, start of the key, scopes, expiry, last use, state."""
    from shared.api.keys import keys_of

    def when(moment) -> str:
        return moment.strftime("%Y-%m-%dT%H:%MZ") if moment else "-"

    with _accounts(cli) as session:
        account_id = _account(session, email).id if email else None
        for key in keys_of(session, account_id):
            state = "revoked" if key.revoked_at else "active"
            click.echo(
                f"{key.id}\t{key.account.email}\t{key.name}\t{key.prefix}…\t{','.join(key.scopes)}\t"
                f"expires {when(key.expires_at)}\tlast used {when(key.last_used_at)}\t{state}"
            )


@api_keys.command("revoke")
@click.argument("key_id", type=ROW_ID)
@pass_cli
def api_keys_revoke(cli: CliContext, key_id: int) -> None:
    """Stop a key at once."""
    from shared.api.keys import revoke
    from shared.models import ApiKey

    with _accounts(cli) as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            raise click.ClickException(f"no API key {key_id}")
        revoke(key)
    click.echo(f"key {key_id} is revoked")


@main.group()
def webhooks() -> None:
    """Webhooks (as on the admin's Webhooks pages): add, list, disable, enable, remove."""


@webhooks.command("add")
@click.argument("email")
@click.option("--service", type=click.Choice(["mailer", "survey"]), required=True)
@click.option("--url", required=True, help="https, to a public address (see WEBHOOK_ALLOW_PRIVATE).")
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    type=click.Choice([event.value for event in WebhookEvent]),
    help="Repeat for more than one.",
)
@click.option("--count", type=click.IntRange(1, 1_000_000), help="survey.responses_reached: at how many responses.")
@pass_cli
def webhooks_add(cli: CliContext, email: str, service: str, url: str, events: tuple[str, ...], count) -> None:
    """Add a webhook for the account EMAIL and print its secret: this is the only time it is shown."""
    from shared.api.destinations import Rules
    from shared.api.webhooks import WebhookError, create_webhook

    with _accounts(cli) as session:
        try:
            hook = create_webhook(
                session, _account(session, email), service, url, events, count, rules=Rules.for_config(cli.config)
            )
        except WebhookError as exc:
            raise click.ClickException(str(exc)) from None
        hook_id, secret = hook.id, hook.secret
    click.echo(secret)
    click.echo(f"webhook {hook_id}: give the secret to the receiver now, it is not shown again", err=True)


@webhooks.command("list")
@click.argument("email", required=False)
@pass_cli
def webhooks_list(cli: CliContext, email: str | None) -> None:
    """Webhooks (of one account, or all): id, account, service, URL, events, state."""
    from shared.api.webhooks import webhooks_of

    with _accounts(cli) as session:
        for hook in webhooks_of(session, _account(session, email).id if email else None, None):
            state = "disabled" if hook.disabled_at else "active"
            click.echo(f"{hook.id}\t{hook.account.email}\t{hook.service}\t{hook.url}\t{','.join(hook.events)}\t{state}")


def _webhook(session: Session, webhook_id: int):
    from shared.models import Webhook

    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise click.ClickException(f"no webhook {webhook_id}")
    return hook


@webhooks.command("disable")
@click.argument("webhook_id", type=ROW_ID)
@pass_cli
def webhooks_disable(cli: CliContext, webhook_id: int) -> None:
    """Tell the webhook nothing new; its queued deliveries wait."""
    from shared.api.webhooks import set_disabled

    with _accounts(cli) as session:
        set_disabled(_webhook(session, webhook_id), True)
    click.echo(f"webhook {webhook_id} is disabled")


@webhooks.command("enable")
@click.argument("webhook_id", type=ROW_ID)
@pass_cli
def webhooks_enable(cli: CliContext, webhook_id: int) -> None:
    from shared.api.webhooks import set_disabled

    with _accounts(cli) as session:
        set_disabled(_webhook(session, webhook_id), False)
    click.echo(f"webhook {webhook_id} is enabled")


@webhooks.command("remove")
@click.argument("webhook_id", type=ROW_ID)
@pass_cli
def webhooks_remove(cli: CliContext, webhook_id: int) -> None:
    with _accounts(cli) as session:
        session.delete(_webhook(session, webhook_id))
    click.echo(f"webhook {webhook_id} is removed")


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
@click.option("--check", is_flag=True, help="Exit 0 if a worker wrote its heartbeat lately, else 1 (for monitoring).")
@pass_cli
def worker(cli: CliContext, once: bool, check: bool) -> None:
    """Deliver mail from the outbox (and newsletter issues) until stopped."""
    from services.worker import run

    if check:
        from shared.clock import utcnow
        from shared.heartbeat import worker_health

        with cli.database.sessions() as session:
            health = worker_health(session, utcnow()).as_dict()
        click.echo(f"worker: {health['status']}, last heartbeat {health['last_beat'] or 'never'}")
        sys.exit(0 if health["status"] == "ok" else 1)
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
