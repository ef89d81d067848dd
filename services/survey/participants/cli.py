"""``utskick participants import SURVEY_ID FILE``: the CSV import of the participant page."""

from __future__ import annotations

import click

from services.survey.surveys.cli import get_survey, survey_session
from shared.cli import ROW_ID, CliContext, pass_cli


def register(main: click.Group) -> None:
    @main.group()
    def participants() -> None:
        """Survey participants."""

    @participants.command("import")
    @click.argument("survey_id", type=ROW_ID)
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @pass_cli
    def participants_import(cli: CliContext, survey_id: int, file: str) -> None:
        """Add or update participants from CSV (email, name, other columns become attributes)."""
        from services.survey.participants.domain import file_encoding, import_participants_csv

        # Line by line (newline="": csv joins quoted line breaks): a file of any size, flat memory.
        with (
            open(file, encoding=file_encoding(file), errors="replace", newline="") as lines_in,
            survey_session(cli) as (session, _config),
        ):
            get_survey(session, survey_id)
            report = import_participants_csv(session, survey_id, lines_in)
            lines = report.lines()
        for line in lines:
            click.echo(line)
