"""The pages of a job in either service: its progress bar, its report and its files.

Jobs are started by each service's own pages (after a confirmation step where mail goes out);
these pages only follow them. A job is seen only in the service that started it.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared.jobs import cancel_job
from shared.models.jobs import Job, JobFile, JobFileRole, JobKind
from shared.web import db_session
from shared.web.auth import login_required

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")
RECENT = 50
# What "x av n" counts, where a bare count would mislead: a sending job's bar fills as mails are
# written to the outbox, and the outbox delivers them afterwards.
COUNTED = {
    JobKind.SURVEY_INVITATIONS: _l("mejl skrivna till utkorgen"),
    JobKind.SURVEY_REMINDERS: _l("mejl skrivna till utkorgen"),
}


def _job(job_id: int) -> Job:
    job = db_session().get(Job, job_id)
    if job is None or job.service != current_app.config["SERVICE"]:
        abort(404)
    return job


def _files(job: Job) -> list[tuple[int, str, int]]:
    return list(
        db_session().execute(
            select(JobFile.id, JobFile.name, JobFile.size)
            .where(JobFile.job_id == job.id, JobFile.role == JobFileRole.OUTPUT)
            .order_by(JobFile.id)
        )
    )


def job_state(job: Job) -> dict[str, object]:
    """What the progress bar shows; the same for the page and its JSON."""
    return {
        "status": job.status.value,
        "status_label": str(job.status.label),
        "finished": job.finished,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "counted": str(COUNTED.get(job.kind, "")),
    }


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    jobs = db_session().scalars(
        select(Job).where(Job.service == current_app.config["SERVICE"]).order_by(Job.id.desc()).limit(RECENT)
    )
    return render_template("jobs/index.html", jobs=list(jobs))


@bp.get("/<int:job_id>")
@login_required
def show(job_id: int) -> ResponseReturnValue:
    job = _job(job_id)
    return render_template("jobs/show.html", job=job, state=job_state(job), files=_files(job))


@bp.get("/<int:job_id>.json")
@login_required
def state(job_id: int) -> ResponseReturnValue:
    return job_state(_job(job_id))


@bp.get("/<int:job_id>/files/<int:file_id>")
@login_required
def download(job_id: int, file_id: int) -> ResponseReturnValue:
    job = _job(job_id)
    file = db_session().get(JobFile, file_id)
    if file is None or file.job_id != job.id or file.role != JobFileRole.OUTPUT:
        abort(404)
    return Response(
        file.data,
        mimetype=file.content_type,
        headers={"Content-Disposition": f'attachment; filename="{file.name}"', "Cache-Control": "private, no-store"},
    )


@bp.post("/<int:job_id>/cancel")
@login_required
def cancel(job_id: int) -> ResponseReturnValue:
    job = _job(job_id)
    if cancel_job(db_session(), job):
        db_session().commit()
        flash(_("Jobbet avbryts. Det som redan är gjort ligger kvar."))
    return redirect(url_for("jobs.show", job_id=job_id))
