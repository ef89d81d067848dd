"""Survey commands: surveys, participants, invitations, reminders, results."""
import click


def register(main: click.Group) -> None:
    pass
    __import__("services.survey.results.cli", fromlist=["register"]).register(main)  # results (issue 5)
