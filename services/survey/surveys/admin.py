"""What evaluators do with a survey: create it from a definition, edit it while it is a draft (as
YAML or in the structured editor), export it, open and close it."""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from services.survey.mailings.domain import count_due
from services.survey.mailings.rendering import closing_text
from services.survey.participants.domain import decode_csv, status_counts
from services.survey.surveys import domain, editor
from services.survey.surveys.definitions import MAX_DEFINITION_BYTES, DefinitionError, too_large
from services.survey.surveys.questions import definition_of
from shared.models import Survey, SurveyStatus
from shared.web import db_session, get_or_404
from shared.web.auth import login_required

bp = Blueprint("surveys_admin", __name__, url_prefix="/admin/surveys")
MAX_UPLOAD = 2 * 1024 * 1024


def uploaded_text(field: str, text_field: str) -> str:
    """The uploaded file's text, or what was pasted into ``text_field`` when no file was chosen."""
    upload = request.files.get(field)
    if upload and upload.filename:
        raw = upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            abort(413)
        return decode_csv(raw)
    return request.form.get(text_field, "")


def _definition_source() -> str:
    """The uploaded definition's text, or the pasted one; over the size limit either way is a DefinitionError
    (pasted text is measured when it is read)."""
    upload = request.files.get("file")
    if upload and upload.filename:
        upload.stream.seek(0, io.SEEK_END)
        if upload.stream.tell() > MAX_DEFINITION_BYTES:
            raise too_large()
        upload.stream.seek(0)
    return uploaded_text("file", "source")


def _shown_again(source: str) -> str:
    """What the text box shows after an error: the text as sent, unless it was too large to take."""
    return source if len(source) <= MAX_DEFINITION_BYTES else ""


def _list_page(errors: list[str], source: str, status: int = 200):
    surveys = domain.list_surveys(db_session())
    return render_template("survey/surveys/index.html", surveys=surveys, errors=errors, source=source), status


@bp.get("")
@login_required
def index():
    return _list_page([], "")


@bp.post("")
@login_required
def create():
    source = ""
    session = db_session()
    try:
        source = _definition_source()
        survey = domain.import_survey_text(session, source)
    except DefinitionError as exc:
        session.rollback()
        return _list_page(exc.errors, _shown_again(source), 422)
    session.commit()
    flash(_("Enkäten ”%(title)s” är skapad som utkast.", title=survey.title))
    return redirect(url_for("surveys_admin.survey", survey_id=survey.id))


@bp.get("/<int:survey_id>")
@login_required
def survey(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    uninvited, due = count_due(session, survey)
    return render_template(
        "survey/surveys/survey.html",
        survey=survey,
        row=domain.list_surveys(session, survey_id)[0],
        counts=status_counts(session, survey_id),
        uninvited=uninvited,
        due=due,
        closes=closing_text(survey, language=str(get_locale())),  # in the evaluator's language
    )


@bp.post("/<int:survey_id>/status")
@login_required
def set_status(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    try:
        if request.form.get("status") == SurveyStatus.OPEN:
            domain.open_survey(session, survey)
            flash(_("Enkäten är öppen för svar."))
        elif request.form.get("status") == SurveyStatus.CLOSED:
            domain.close_survey(session, survey)
            flash(_("Enkäten är stängd. Länkarna visar nu att den är stängd."))
    except domain.SurveyStateError as exc:
        flash(str(exc))
    session.commit()
    return redirect(url_for("surveys_admin.survey", survey_id=survey_id))


@bp.route("/<int:survey_id>/definition", methods=["GET", "POST"])
@login_required
def definition(survey_id: int):
    """The whole definition as YAML in a text area, with errors per path."""
    survey = get_or_404(Survey, survey_id)
    errors: list[str] = []
    source = domain.export_yaml(survey)
    if request.method == "POST":
        session = db_session()
        try:
            source = ""
            source = _definition_source()
            domain.replace_definition(session, survey, source)
        except (DefinitionError, domain.SurveyStateError) as exc:
            session.rollback()
            source = _shown_again(source)
            errors = exc.errors if isinstance(exc, DefinitionError) else [str(exc)]
        else:
            session.commit()
            flash(_("Ändringarna är sparade."))
            return redirect(url_for("surveys_admin.survey", survey_id=survey_id))
    status = 422 if errors else 200
    return render_template("survey/surveys/definition.html", survey=survey, source=source, errors=errors), status


def _form_name(path: str) -> str:
    """``pages[1].questions[0].text`` (an error path) → ``pages.1.questions.0.text`` (a form name)."""
    return path.replace("[", ".").replace("]", "")


@bp.route("/<int:survey_id>/edit", methods=["GET", "POST"])
@login_required
def edit(survey_id: int):
    """The structured editor: every text in place, required flags, questions moved up/down or removed.

    Each button sends the whole form, so typed changes are kept when a question is moved.
    """
    survey = get_or_404(Survey, survey_id)
    errors: dict[str, str] = {}
    other_errors: list[str] = []
    if request.method == "POST":
        session = db_session()
        op = request.form.get("op", "")
        try:
            editor.edit_texts(session, survey, request.form)
            if op:
                kind, page, index = op.split(":")
                if kind == "remove":
                    editor.remove_question(session, survey, int(page), int(index))
                else:
                    editor.move_question(session, survey, int(page), int(index), -1 if kind == "up" else 1)
        except DefinitionError as exc:
            session.rollback()
            for error in exc.errors:
                path, _sep, message = error.partition(": ")
                if message and request.form.get(_form_name(path)) is not None:
                    errors[_form_name(path)] = message
                else:
                    other_errors.append(error)
        except domain.SurveyStateError as exc:
            session.rollback()
            other_errors.append(str(exc))
        except (ValueError, IndexError):
            session.rollback()
            abort(400)
        else:
            session.commit()
            flash(_("Ändringarna är sparade."))
            anchor = f"#q-{op.split(':', 1)[1]}" if op else ""
            return redirect(url_for("surveys_admin.edit", survey_id=survey_id) + anchor)
    values = request.form if request.method == "POST" else dict(editor.text_fields(definition_of(survey)))
    return render_template(
        "survey/surveys/edit.html",
        survey=survey,
        definition=definition_of(survey),
        values=values,
        errors=errors,
        other_errors=other_errors,
        posted=request.method == "POST",
    ), (422 if errors or other_errors else 200)


@bp.get("/<int:survey_id>/export")
@login_required
def export(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    return Response(
        domain.export_yaml(survey),
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="enkat-{survey_id}.yaml"'},
    )
