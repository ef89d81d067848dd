"""The participant pages: the list with statuses and search, the CSV import, one person's page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.survey.participants import domain, jobs
from services.survey.responses.storage import readable_answers
from shared.models import AdminUser, ParticipantStatus, Survey
from shared.models.base import MAX_ROW_ID
from shared.web import db_session, get_or_404
from shared.web.auth import current_admin, login_required

bp = Blueprint("participants_admin", __name__, url_prefix="/admin/surveys/<int:survey_id>/participants")
PER_PAGE = 100
MAX_IMPORT = 20 * 1024 * 1024  # a CSV of some 200 000 people; larger are split or go through the CLI


def _list_page(
    survey: Survey,
    page: int = 1,
    status: ParticipantStatus | None = None,
    search: str = "",
    report=None,
    after: int | None = None,
    before: int | None = None,
):
    session = db_session()
    listed = domain.list_participants(
        session, survey.id, status, search, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, after=after, before=before
    )
    counts = domain.status_counts(session, survey.id)
    total = counts[status] if status else sum(counts.values())
    if listed.searched is not None:
        total = listed.searched
    return render_template(
        "survey/participants/index.html",
        survey=survey,
        rows=listed.rows,
        listed=listed,
        total=total,
        page=page,
        status=status,
        search=search,
        counts=counts,
        report=report,
    )


@bp.get("")
@login_required
def index(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    page = max(request.args.get("page", 1, type=int), 1)
    try:
        status = ParticipantStatus(request.args.get("status", ""))
    except ValueError:  # none chosen (or a made-up one): everyone
        status = None
    after = request.args.get("after", type=int)
    before = request.args.get("before", type=int)
    return _list_page(
        survey,
        page,
        status,
        request.args.get("q", ""),
        after=after if after is not None and 0 < after <= MAX_ROW_ID else None,
        before=before if before is not None and 0 < before <= MAX_ROW_ID else None,
    )


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_csv(survey_id: int):
    """The import page: a small file is read while the editor waits, a large one becomes a job."""
    survey = get_or_404(Survey, survey_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        session = db_session()
        upload = request.files.get("file")
        filename = upload.filename or "" if upload else ""
        data = upload.read(MAX_IMPORT + 1) if upload and filename else b""
        if len(data) > MAX_IMPORT:
            abort(413)
        if not data.strip():
            errors["file"] = _("Välj en CSV-fil att läsa in.")
        elif domain.runs_as_job(data):
            job = jobs.start_import(session, survey, data, filename=filename, editor=_editor())
            session.commit()
            return redirect(url_for("jobs.show", job_id=job.id), code=303)
        else:
            report = domain.import_participants_csv(session, survey_id, domain.decode_csv(data))
            session.commit()
            return _list_page(survey, report=report)
    return render_template("survey/participants/import.html", survey=survey, errors=errors), (422 if errors else 200)


def _editor() -> AdminUser:
    admin = current_admin()
    if admin is None:
        raise RuntimeError("no editor signed in: the view lacks @login_required")
    return admin


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:participant_id>", methods=["GET", "POST"])
@login_required
def edit(survey_id: int, participant_id: int | None = None):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    participant = domain.get_participant(session, survey_id, participant_id) if participant_id is not None else None
    if participant_id is not None and participant is None:
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            saved = domain.save_participant(
                session,
                survey_id,
                request.form.get("email", ""),
                request.form.get("name", ""),
                request.form.get("attributes", ""),
                participant_id,
            )
        except domain.ParticipantError as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            flash(_("%(email)s är sparad.", email=saved.email))
            return redirect(url_for("participants_admin.index", survey_id=survey_id))
    values = (
        request.form
        if request.method == "POST" or participant is None
        else {
            "email": participant.email,
            "name": participant.name,
            "attributes": domain.attributes_as_text(participant.attributes),
        }
    )
    return render_template(
        "survey/participants/show.html" if participant else "survey/participants/new.html",
        survey=survey,
        participant=participant,
        values=values,
        errors=errors,
        answers=readable_answers(session, survey, participant.id) if participant else [],
    ), (422 if errors else 200)


@bp.post("/<int:participant_id>/remove")
@login_required
def remove(survey_id: int, participant_id: int):
    get_or_404(Survey, survey_id)
    session = db_session()
    if domain.remove_participant(session, survey_id, participant_id):
        flash(_("Deltagaren är borttagen."))
    session.commit()
    return redirect(url_for("participants_admin.index", survey_id=survey_id))
