"""Survey commands: surveys, participants, invitations, reminders, results."""
import click


def register(main: click.Group) -> None:
    pass
