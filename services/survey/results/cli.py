"""``utskick results export SURVEY_ID --format csv|xlsx [--out FILE]``: the export page's file, from the shell;
``utskick results min-group-size SURVEY_ID N``: the small-group rule's threshold."""

from __future__ import annotations

import contextlib
import shutil
import sys
from typing import BinaryIO

import click

from shared.cli import ROW_ID, CliContext, pass_cli


def register(main: click.Group) -> None:
    """Add the ``results`` command group to the ``utskick`` command."""

    @main.group()
    def results() -> None:
        """Survey results."""

    @results.command("min-group-size")
    @click.argument("survey_id", type=ROW_ID)
    @click.argument("size", type=click.IntRange(1, 1000))
    @pass_cli
    def min_group_size(cli: CliContext, survey_id: int, size: int) -> None:
        """Set how many responses a group needs before breakdowns and filters show it (default 5)."""
        from services.survey.results.scope import ANONYMOUS_MIN_GROUP_SIZE
        from shared.models import Survey

        with cli.database.transaction() as session:
            survey = session.get(Survey, survey_id)
            if survey is None:
                raise click.ClickException(f"no survey with id {survey_id}")
            if survey.anonymous and size < ANONYMOUS_MIN_GROUP_SIZE:
                raise click.ClickException(
                    f"the survey is anonymous: groups of fewer than {ANONYMOUS_MIN_GROUP_SIZE} could point people out"
                )
            survey.min_group_size = size
        click.echo(f"survey {survey_id}: groups with fewer than {size} responses are hidden")

    @results.command("export")
    @click.argument("survey_id", type=ROW_ID)
    @click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
    @click.option(
        "--out", type=click.Path(dir_okay=False, writable=True), help="File to write (default: standard output)."
    )
    @click.option("--semicolon", is_flag=True, help="Semicolons between CSV fields (Swedish Excel).")
    @click.option("--labels", is_flag=True, help="Option labels and question texts instead of codes.")
    @click.option("--partial", is_flag=True, help="Also responses that were started but not submitted.")
    @click.option("--with-identity", is_flag=True, help="E-mail and name (never for an anonymous survey).")
    @pass_cli
    def export(
        cli: CliContext,
        survey_id: int,
        fmt: str,
        out: str | None,
        semicolon: bool,
        labels: bool,
        partial: bool,
        with_identity: bool,
    ) -> None:
        """Export the responses of a survey as CSV or XLSX (with a codebook sheet)."""
        from flask_babel import force_locale

        from services.survey import create_app
        from services.survey.results import exports
        from shared.models import Survey
        from shared.web import services

        app = create_app(cli.config)
        # Labels like "Vet inte" are translated: give them a request context in the survey's language.
        with app.test_request_context(), services().db.sessions() as session:
            survey = session.get(Survey, survey_id)
            if survey is None:
                raise click.ClickException(f"no survey with id {survey_id}")
            if with_identity and survey.anonymous:
                raise click.ClickException("the survey is anonymous: its responses carry no e-mail or name")
            options = exports.ExportOptions(
                format=fmt,
                separator=";" if semicolon else ",",
                labels=labels,
                include_partial=partial,
                include_identity=with_identity,
            )
            if fmt == "xlsx" and out is None and sys.stdout.isatty():
                raise click.ClickException("an XLSX file is binary: give --out FILE or redirect the output")
            with force_locale(survey.language or "sv"), contextlib.ExitStack() as stack:
                # A file of our own is closed at the end, standard output only flushed.
                target: BinaryIO = stack.enter_context(open(out, "wb")) if out else sys.stdout.buffer
                stack.callback(target.flush)
                if fmt == "xlsx":
                    with exports.xlsx_file(session, survey, options) as spool:
                        shutil.copyfileobj(spool, target)
                else:
                    for chunk in exports.csv_chunks(session, survey, options):
                        target.write(chunk)
        if out:
            click.echo(f"wrote {out}", err=True)
