"""Mailer commands: each feature with commands adds its own group to the ``utskick`` command."""

import click

from services.mailer.bounces import cli as bounces_cli
from services.mailer.issues import cli as issues_cli
from services.mailer.lists import cli as lists_cli
from services.mailer.subscriptions import cli as subscriptions_cli

FEATURES = (subscriptions_cli, lists_cli, issues_cli, bounces_cli)


def register(main: click.Group) -> None:
    for feature in FEATURES:
        feature.register(main)
