"""Mailer commands: subscribers, issues, bounces."""
import click


def register(main: click.Group) -> None:
    from services.mailer.subscriptions.cli import register as register_subscribers; register_subscribers(main)
    from services.mailer.issues.cli import register as register_issues; register_issues(main)
    pass
