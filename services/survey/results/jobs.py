"""Files made by the worker, with progress and download links on the job's page: the export page's
(``JobKind.RESULTS_EXPORT``: CSV, XLSX, or a data CSV with an SPSS syntax file or an R script) and
a report's PDF (``JobKind.REPORT_PDF``)."""

from __future__ import annotations

import tempfile
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from services.survey.results import exports, syntax
from services.survey.results.pdf import PdfUnavailable, pdf_name, report_pdf
from services.survey.results.report import get_report
from shared.jobs import JobContext, JobProblem, start_job
from shared.models import JobKind, Report, Response, ResponseStatus, Survey

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "spss": "text/plain; charset=utf-8",
    "r": "text/plain; charset=utf-8",
}


def start_export(session, survey: Survey, options: exports.ExportOptions, *, created_by: int | None, return_path: str):
    """Queue the export of a survey's responses (refused below k in an anonymous survey)."""
    options = exports.effective(survey, options)
    if survey.anonymous:
        exports.anonymise(session, survey)  # raises TooFewResponses before a job is queued
    return start_job(
        session,
        JobKind.RESULTS_EXPORT,
        service="survey",
        title=_("Export av svar: %(title)s", title=survey.title),
        params={
            "survey_id": survey.id,
            "format": options.format,
            "separator": options.separator,
            "labels": options.labels,
            "include_partial": options.include_partial,
            "include_identity": options.include_identity,
        },
        language=survey.language or "sv",
        created_by=created_by,
        return_path=return_path,
    )


def export_job(ctx: JobContext) -> None:
    """Write the file(s) with progress every batch of responses, then keep them for download."""
    params: dict[str, Any] = ctx.params
    fmt = params["format"]
    with ctx.db.sessions() as session:
        survey = session.get(Survey, params["survey_id"])
        if survey is None:
            raise JobProblem(_("Enkäten finns inte längre."))
        options = exports.effective(
            survey,
            exports.ExportOptions(
                format=fmt,
                separator=params["separator"],
                labels=params["labels"],
                include_partial=params["include_partial"],
                include_identity=params["include_identity"],
            ),
        )
        statuses = [ResponseStatus.COMPLETE] + ([ResponseStatus.IN_PROGRESS] if options.include_partial else [])
        total = session.scalar(
            select(func.count()).where(Response.survey_id == survey.id, Response.status.in_(statuses))
        )
        ctx.progress(0, total)

        def progress(done: int) -> None:
            ctx.progress(done, total)

        name = f"enkat-{survey.id}-svar"
        try:
            with tempfile.TemporaryFile() as out:
                if fmt in syntax.FORMATS:
                    script_name, script = syntax.analyst_files(session, survey, fmt, name, out, progress)
                    ctx.add_file(script_name, CONTENT_TYPES[fmt], script.encode("utf-8"))
                    fmt = "csv"
                elif fmt == "xlsx":
                    exports.write_xlsx(session, survey, options, out, progress)
                else:
                    for chunk in exports.csv_chunks(session, survey, options, progress):
                        out.write(chunk)
                out.seek(0)
                ctx.add_file(f"{name}.{fmt}", CONTENT_TYPES[fmt], out.read())
        except exports.TooFewResponses as too_few:
            raise JobProblem(
                _("Enkäten är anonym och har för få svar för att exporteras: %(n)s till behövs.", n=too_few.needed)
            ) from None
    ctx.summary.append(_("%(n)s svar exporterade.", n=total))


def start_report_pdf(session, survey: Survey, report: Report, *, created_by: int | None, return_path: str):
    """Queue the making of a report's PDF."""
    return start_job(
        session,
        JobKind.REPORT_PDF,
        service="survey",
        title=_("PDF av rapporten: %(title)s", title=report.title),
        params={"survey_id": survey.id, "report_id": report.id},
        language=survey.language or "sv",
        created_by=created_by,
        return_path=return_path,
    )


def report_pdf_job(ctx: JobContext) -> None:
    """Make the PDF and keep it for download."""
    with ctx.db.sessions() as session:
        survey = session.get(Survey, ctx.params["survey_id"])
        report = get_report(session, ctx.params["survey_id"], ctx.params["report_id"])
        if survey is None or report is None:
            raise JobProblem(_("Rapporten finns inte längre."))
        ctx.progress(0, 1)
        try:
            data = report_pdf(session, survey, report)
        except PdfUnavailable as missing:
            raise JobProblem(str(missing)) from None
        ctx.add_file(pdf_name(survey, report), "application/pdf", data)
    ctx.summary.append(_("PDF:en är klar."))
