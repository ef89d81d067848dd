"""Large subscriber imports as a job: the worker stages the file in batches, applies it in set
statements, queues the confirmation mails in batches, and leaves the line-numbered report."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from services.mailer.subscriptions import csvio
from shared.clock import utcnow
from shared.jobs import JobContext, JobProblem, start_job
from shared.models import AdminUser, Job, JobKind, NewsletterList

# Where a restarted job goes on from (``JobContext.checkpoint["phase"]``).
STAGING, APPLIED = "staging", "applied"


def file_error(csv_file: csvio.CsvFile) -> str | None:
    """The message for a file that cannot be imported at all, or None."""
    if csv_file.error == "empty":
        return _("Filen är tom.")
    if csv_file.error == "no_email_column":
        return _('Hittar ingen kolumn med e-postadresser. Ge kolumnen rubriken "e-post" eller "email".')
    return None


def start_import(
    session: Session,
    newsletter_list: NewsletterList,
    data: bytes,
    *,
    filename: str,
    consented: bool,
    editor: AdminUser,
    return_path: str,
    history_name: str | None = None,
    language: str = "sv",
) -> Job:
    """Queue the import of a (large) file; the job page shows its progress and then its report.
    ``history_name`` is who the history names (the editor's address unless given: an API key's name)."""
    return start_job(
        session,
        JobKind.SUBSCRIBER_IMPORT,
        service="mailer",
        title=_("Import av prenumeranter till %(list)s", list=newsletter_list.name),
        params={"list_id": newsletter_list.id, "consented": consented, "editor": history_name or editor.email},
        created_by=editor.id,
        language=language,
        return_path=return_path,
        input_file=(filename or "import.csv", "text/csv", data),
    )


def import_job(ctx: JobContext) -> None:
    """The worker's side of ``start_import``; resumes from its checkpoint after an interruption."""
    data = ctx.input_file()
    csv_file = csvio.read_subscriber_csv(data)
    problem = file_error(csv_file)
    if problem:
        raise JobProblem(problem)
    del data  # the decoded text is all that is needed from here
    list_id, consented, editor = ctx.params["list_id"], ctx.params["consented"], ctx.params["editor"]
    lines = csv_file.text.count("\n") + 1
    checkpoint = dict(ctx.checkpoint)
    with ctx.db.sessions() as session:
        if checkpoint.get("phase") != APPLIED:
            if checkpoint.get("import_id"):  # an earlier attempt staged part of the file
                csvio.forget(session, checkpoint["import_id"])
            import_id = uuid.uuid4().hex
            ctx.progress(0, lines, {"phase": STAGING, "import_id": import_id})
            for staged_lines in csvio.stage(session, import_id, csv_file):
                session.commit()
                ctx.progress(min(staged_lines, lines), lines)
            newsletter_list = session.get(NewsletterList, list_id)
            if newsletter_list is None:
                csvio.forget(session, import_id)
                session.commit()
                raise JobProblem(_("Listan finns inte längre."))
            staged = csvio.Staged.for_editor(import_id, list_id, editor, utcnow())
            csvio.apply(session, staged, newsletter_list, consented=consented)
            session.commit()
            checkpoint = {"phase": APPLIED, "import_id": import_id, "now": staged.now.isoformat(), "after": 0}
            ctx.progress(lines, lines, checkpoint)
        staged = csvio.Staged.for_editor(
            checkpoint["import_id"], list_id, editor, datetime.fromisoformat(checkpoint["now"])
        )
        found = csvio.report(session, staged)
        after, mailed = checkpoint.get("after", 0), 0
        config, tokens = ctx.config, current_app.extensions["utskick"].tokens
        while not consented:
            queued, after = csvio.queue_confirmations(session, config, tokens, staged, after=after)
            if not queued:
                break
            session.commit()
            mailed += queued
            ctx.progress(lines + mailed, lines + found.imported, {**checkpoint, "after": after})
        csvio.forget(session, staged.import_id)
        session.commit()
    ctx.summary[:], ctx.problems[:] = found.as_job_report()
