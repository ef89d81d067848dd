"""Mailer commands: subscribers, issues, bounces."""
import click


def register(main: click.Group) -> None:
    pass
