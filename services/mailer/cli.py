"""Mailer commands: each feature adds its own group to the ``utskick`` command."""
import click

from services.mailer.issues import cli as issues_cli
from services.mailer.subscriptions import cli as subscriptions_cli


def register(main: click.Group) -> None:
    subscriptions_cli.register(main)
    issues_cli.register(main)
