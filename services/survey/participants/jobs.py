"""Large participant imports as a job: the worker reads the file line by line in batches,
commits each with its checkpoint, and leaves the same line-numbered report as the page."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from services.survey.participants import domain
from shared.jobs import JobContext, JobProblem, start_job
from shared.models import AdminUser, Job, JobKind, Survey


def start_import(session: Session, survey: Survey, data: bytes, *, filename: str, editor: AdminUser) -> Job:
    """Queue the import of a (large) file; the job page shows its progress and then its report."""
    return start_job(
        session,
        JobKind.PARTICIPANT_IMPORT,
        service="survey",
        title=_("Import av deltagare till %(survey)s", survey=survey.title),
        params={"survey_id": survey.id},
        created_by=editor.id,
        return_path=f"/admin/surveys/{survey.id}/participants",
        input_file=(filename or "import.csv", "text/csv", data),
    )


def import_job(ctx: JobContext) -> None:
    """The worker's side of ``start_import``; goes on after the last committed batch if interrupted."""
    text = domain.decode_csv(ctx.input_file())
    total = text.count("\n") + 1
    survey_id = ctx.params["survey_id"]
    resume = None
    if ctx.checkpoint.get("line"):
        saved = ctx.checkpoint
        report = domain.ImportReport(
            saved["added"],
            saved["updated"],
            saved["merged"],
            [(line, msg) for line, msg in saved["errors"]],
            saved["error_count"],
        )
        resume = (saved["line"], report, datetime.fromisoformat(saved["now"]))
    with ctx.db.sessions() as session:
        if session.get(Survey, survey_id) is None:
            raise JobProblem(_("Enkäten finns inte längre."))

        def committed(line: int, report: domain.ImportReport, now: datetime) -> None:
            session.commit()
            ctx.progress(
                min(line, total),
                total,
                {
                    "line": line,
                    "added": report.added,
                    "updated": report.updated,
                    "merged": report.merged,
                    "errors": report.errors,
                    "error_count": report.error_count,
                    "now": now.isoformat(),
                },
            )

        report = domain.import_participants_csv(session, survey_id, domain.text_lines(text), committed, resume=resume)
        session.commit()
    ctx.progress(total, total)
    summary = report.lines()
    ctx.summary[:] = summary[:3] + summary[3 + len(report.errors) :]  # the "… och N till" line, if any
    ctx.problems[:] = [{"line": line, "value": "", "message": msg} for line, msg in report.errors]
