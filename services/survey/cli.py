"""Survey commands: surveys, participants, invitations, reminders, results."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from services.survey.results import cli as results_cli
from shared.cli import CliContext, pass_cli


@contextmanager
def _survey_session(cli: CliContext):
    """The survey app's request context (translations, mail templates) and one committed transaction."""
    from services.survey import create_app
    from shared.web import services

    app = create_app(cli.config)
    with app.test_request_context(), services().db.transaction() as session:
        yield session, services().config


def _survey(session, survey_id: int):
    from shared.models import Survey

    survey = session.get(Survey, survey_id)
    if survey is None:
        raise click.ClickException(f"no survey with id {survey_id}")
    return survey


def register(main: click.Group) -> None:
    @main.group()
    def surveys() -> None:
        """Survey definitions."""

    @surveys.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--closes", help="Closing date (YYYY-MM-DD) instead of the file's.")
    @click.option("--open", "open_now", is_flag=True, help="Open the survey for answers right away.")
    @pass_cli
    def surveys_import(cli: CliContext, file: str, closes: str | None, open_now: bool) -> None:
        """Create a draft survey from a YAML or JSON definition; prints its id."""
        from services.survey.definitions import DefinitionError, parse_moment_text
        from services.survey.surveys import SurveyStateError, import_survey_file, open_survey, set_closes

        try:
            with _survey_session(cli) as (session, _config):
                survey = import_survey_file(session, file)
                if closes:
                    try:
                        parse_moment_text(closes)
                    except ValueError:
                        raise click.ClickException(f"--closes: not a date: {closes!r}") from None
                    set_closes(session, survey, closes)
                if open_now:
                    open_survey(session, survey)
                survey_id = survey.id
        except DefinitionError as exc:
            click.echo(f"{file}: the definition has {len(exc.errors)} error(s):", err=True)
            for error in exc.errors:
                click.echo(f"  {error}", err=True)
            raise SystemExit(1) from None
        except SurveyStateError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(survey_id)

    @surveys.command("list")
    @pass_cli
    def surveys_list(cli: CliContext) -> None:
        """Every survey: id, status, answered/participants, title."""
        from services.survey.surveys import list_surveys

        with _survey_session(cli) as (session, _config):
            rows = list_surveys(session)
        for row in rows:
            click.echo(f"{row.id}\t{row.status}\t{row.completed}/{row.participants}\t{row.title}")

    @surveys.command("export")
    @click.argument("survey_id", type=int)
    @pass_cli
    def surveys_export(cli: CliContext, survey_id: int) -> None:
        """Print a survey's definition as YAML."""
        from services.survey.surveys import export_yaml

        with _survey_session(cli) as (session, _config):
            click.echo(export_yaml(_survey(session, survey_id)), nl=False)

    @main.group()
    def participants() -> None:
        """Survey participants."""

    @participants.command("import")
    @click.argument("survey_id", type=int)
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @pass_cli
    def participants_import(cli: CliContext, survey_id: int, file: str) -> None:
        """Add or update participants from CSV (email, name, other columns become attributes)."""
        from services.survey.participants import decode_csv, import_participants_csv

        with _survey_session(cli) as (session, _config):
            _survey(session, survey_id)
            report = import_participants_csv(session, survey_id, decode_csv(Path(file).read_bytes()))
            lines = report.lines()
        for line in lines:
            click.echo(line)

    for name, kind in (("invitations", "invitations"), ("reminders", "reminders")):
        _sending_group(main, name, kind)

    results_cli.register(main)


def _sending_group(main: click.Group, name: str, kind: str) -> None:
    @main.group(name=name, help=f"Survey {kind}.")
    def group() -> None:
        pass

    @group.command(
        "send",
        help="Mail everyone not yet invited." if kind == "invitations"
        else "Remind invited people who have not answered or declined (limits per survey).",
    )
    @click.argument("survey_id", type=int)
    @pass_cli
    def send(cli: CliContext, survey_id: int) -> None:
        from services.survey import invitations
        from services.survey.surveys import SurveyStateError

        try:
            with _survey_session(cli) as (session, config):
                survey = _survey(session, survey_id)
                action = invitations.send_reminders if kind == "reminders" else invitations.send_invitations
                report = action(session, config, survey)
        except SurveyStateError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{report.sent} {kind} queued; {report.suppressed} suppressed address(es) skipped")

