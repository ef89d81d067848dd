"""Survey commands: each feature adds its own groups to the ``utskick`` command."""

import click

from services.survey.mailings import cli as mailings_cli
from services.survey.participants import cli as participants_cli
from services.survey.results import cli as results_cli
from services.survey.surveys import cli as surveys_cli

FEATURES = (surveys_cli, participants_cli, mailings_cli, results_cli)


def register(main: click.Group) -> None:
    for feature in FEATURES:
        feature.register(main)
