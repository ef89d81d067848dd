"""``utskick surveys import|list|export|copy|seal``, and what every survey command needs: the survey app's
request context with one transaction, and a survey by its id."""

from __future__ import annotations

from contextlib import contextmanager

import click

from shared.cli import ROW_ID, CliContext, pass_cli


@contextmanager
def survey_session(cli: CliContext):
    """The survey app's request context (translations, mail templates) and one committed transaction."""
    from services.survey import create_app
    from shared.web import services

    app = create_app(cli.config)
    with app.test_request_context(), services().db.transaction() as session:
        yield session, services().config


def get_survey(session, survey_id: int):
    """The survey, or a clear error for the shell."""
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
        from services.survey.surveys.definitions import DefinitionError, parse_moment_text
        from services.survey.surveys.domain import SurveyStateError, import_survey_file, open_survey, set_closes

        try:
            with survey_session(cli) as (session, _config):
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
        from services.survey.surveys.domain import list_surveys

        with survey_session(cli) as (session, _config):
            rows = list_surveys(session)
        for row in rows:
            click.echo(f"{row.id}\t{row.status}\t{row.completed}/{row.participants}\t{row.title}")

    @surveys.command("export")
    @click.argument("survey_id", type=ROW_ID)
    @pass_cli
    def surveys_export(cli: CliContext, survey_id: int) -> None:
        """Print a survey's definition as YAML."""
        from services.survey.surveys.domain import export_yaml

        with survey_session(cli) as (session, _config):
            click.echo(export_yaml(get_survey(session, survey_id)), nl=False)

    @surveys.command("seal")
    @pass_cli
    def surveys_seal(cli: CliContext) -> None:
        """Seal anonymous responses now (the worker does it after midnight UTC and when a survey
        closes): those of earlier days, and all of closed surveys."""
        from services.survey.responses.storage import seal_past_days
        from shared.clock import utcnow

        with survey_session(cli) as (session, _config):
            sealed = seal_past_days(session, utcnow())
        click.echo(f"{sealed.responses} responses of {sealed.days} days sealed")

    @surveys.command("copy")
    @click.argument("survey_id", type=ROW_ID)
    @click.option("--title", default="", help='Title of the copy (default: "Kopia av …").')
    @pass_cli
    def surveys_copy(cli: CliContext, survey_id: int, title: str) -> None:
        """Copy a survey's questions, mail texts and settings into a new draft (no participants or
        responses); prints the new id."""
        from services.survey.surveys.domain import copy_survey

        if len(title) > 300:
            raise click.ClickException("--title: at most 300 characters")
        with survey_session(cli) as (session, _config):
            new_id = copy_survey(session, get_survey(session, survey_id), title.strip()).id
        click.echo(new_id)
