"""``utskick results export SURVEY_ID --format csv|xlsx|spss|r [--out FILE]``: the export page's files,
from the shell; ``utskick results report SURVEY_ID --pdf FILE``: the evaluation report as a PDF;
``utskick results min-group-size SURVEY_ID N``: the small-group rule's threshold."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from shared.cli import ROW_ID, CliContext, pass_cli

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shared.models import Survey


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
        from services.survey.results.anonymity import ANONYMOUS_MIN_GROUP_SIZE
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
    @click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "spss", "r"]), default="csv", show_default=True)
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, writable=True),
        help="File to write (default: standard output); for spss and r the name without extension: "
        "NAME.sps or NAME.R is written beside NAME.csv.",
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
        """Export the responses of a survey as CSV, XLSX (with a codebook), or a CSV with an SPSS
        syntax file or an R script that reads it with labels."""
        from services.survey.results import exports, syntax

        if fmt in syntax.FORMATS and not out:
            raise click.ClickException(f"--format {fmt} writes two files: give --out NAME")
        if fmt == "xlsx" and out is None and sys.stdout.isatty():
            raise click.ClickException("an XLSX file is binary: give --out FILE or redirect the output")
        with _survey_context(cli, survey_id) as (session, survey):
            if with_identity and survey.anonymous:
                raise click.ClickException("the survey is anonymous: its responses carry no e-mail or name")
            if partial and survey.anonymous:
                raise click.ClickException("the survey is anonymous: only submitted responses are exported")
            options = exports.ExportOptions(
                format=fmt,
                separator=";" if semicolon else ",",
                labels=labels,
                include_partial=partial,
                include_identity=with_identity,
            )
            try:
                if fmt in syntax.FORMATS and out:
                    name = out.removesuffix(syntax.FORMATS[fmt]).removesuffix(".csv")
                    # Written aside first: a refused or failed export leaves an earlier file as it was.
                    part = Path(name + ".csv.part")
                    try:
                        with part.open("wb") as data:
                            script_name, script = syntax.analyst_files(session, survey, fmt, Path(name).name, data)
                        part.replace(name + ".csv")
                    finally:
                        part.unlink(missing_ok=True)
                    Path(name).with_name(script_name).write_text(script, encoding="utf-8")
                    click.echo(f"wrote {name}.csv and {Path(name).with_name(script_name)}", err=True)
                    return
                with contextlib.ExitStack() as stack:
                    # A file of our own is closed at the end, standard output only flushed.
                    target: BinaryIO = stack.enter_context(open(out, "wb")) if out else sys.stdout.buffer
                    stack.callback(target.flush)
                    if fmt == "xlsx":
                        with exports.xlsx_file(session, survey, options) as spool:
                            shutil.copyfileobj(spool, target)
                    else:
                        for chunk in exports.csv_chunks(session, survey, options):
                            target.write(chunk)
            except exports.TooFewResponses as too_few:
                raise click.ClickException(
                    f"the survey is anonymous and has too few responses to export: {too_few.needed} more needed"
                ) from None
        if out:
            click.echo(f"wrote {out}", err=True)

    @results.command("report")
    @click.argument("survey_id", type=ROW_ID)
    @click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, writable=True), required=True)
    @click.option("--report", "report_id", type=ROW_ID, help="Which of the survey's reports (default: the newest).")
    @pass_cli
    def report(cli: CliContext, survey_id: int, pdf_file: str, report_id: int | None) -> None:
        """Write the survey's report as a PDF: the one put together in the browser (the newest, or
        --report ID), or one with every question when there is none."""
        from services.survey.results.pdf import PdfUnavailable, report_pdf
        from services.survey.results.report import default_report, get_report, reports_of

        with _survey_context(cli, survey_id) as (session, survey):
            if report_id is not None:
                chosen = get_report(session, survey.id, report_id)
                if chosen is None:
                    raise click.ClickException(f"survey {survey_id} has no report {report_id}")
            else:
                chosen = next(reversed(reports_of(session, survey.id)), None) or default_report(survey)
            try:
                data = report_pdf(session, survey, chosen)
            except PdfUnavailable as missing:
                raise click.ClickException(str(missing)) from None
        Path(pdf_file).write_bytes(data)
        click.echo(f"wrote {pdf_file} ({chosen.title})", err=True)


@contextlib.contextmanager
def _survey_context(cli: CliContext, survey_id: int) -> Iterator[tuple[Session, Survey]]:
    """The survey app's request context in the survey's language (labels such as "Vet inte" are
    translated) and a session with the survey."""
    from flask_babel import force_locale

    from services.survey import create_app
    from shared.models import Survey
    from shared.web import services

    app = create_app(cli.config)
    with app.test_request_context(), services().db.sessions() as session:
        survey = session.get(Survey, survey_id)
        if survey is None:
            raise click.ClickException(f"no survey with id {survey_id}")
        with force_locale(survey.language or "sv"):
            yield session, survey
