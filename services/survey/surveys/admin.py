"""What evaluators do with a survey: start it (blank, template, copy, imported definition), build it
in the browser or edit it as YAML, see and restore its versions, export it, open and close it."""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from services.survey.mailings.domain import count_due
from services.survey.mailings.rendering import closing_text
from services.survey.mailings.schedule import next_automatic_reminder
from services.survey.participants.domain import decode_csv, status_counts
from services.survey.responses.public import condition_words, markdown
from services.survey.surveys import domain, editor
from services.survey.surveys.definitions import MAX_DEFINITION_BYTES, DefinitionError, too_large
from services.survey.surveys.questions import SurveyDefinition, definition_of
from shared.models import Survey, SurveyStatus
from shared.web import db_session, get_or_404
from shared.web.auth import current_admin, login_required

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
        survey = domain.import_survey_text(session, source, _admin_id())
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
        next_reminder=next_automatic_reminder(session, survey),
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
            domain.replace_definition(session, survey, source, _admin_id())
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


@bp.route("/<int:survey_id>/edit", methods=["GET", "POST"])
@login_required
def edit(survey_id: int):
    """The builder: pages, questions, options and conditions in one form that works without JavaScript."""
    survey = get_or_404(Survey, survey_id)
    errors: list[editor.BuilderError] = []
    session = db_session()
    definition = definition_of(survey)
    preview = _preview_context(definition)
    if request.method == "POST" and request.form.get("op") == editor.PREVIEW:
        preview = _preview(survey)
    elif request.method == "POST":
        try:
            anchor = editor.save_form(session, survey, request.form, request.form.get("op", ""), _admin_id())
        except DefinitionError as exc:
            session.rollback()
            errors = editor.builder_errors(exc.errors, request.form)
        except domain.OrphaningChange as exc:
            session.rollback()
            errors = [editor.BuilderError("survey", problem, problem) for problem in exc.problems]
        except (ValueError, IndexError, KeyError):
            session.rollback()
            abort(400)
        else:
            session.commit()
            flash(_("Ändringarna är sparade."))
            return redirect(url_for("surveys_admin.edit", survey_id=survey_id) + (f"#{anchor}" if anchor else ""))
    posted = request.method == "POST"
    return render_template(
        "survey/surveys/edit.html",
        survey=survey,
        definition=definition,
        **preview,
        values=request.form if posted else editor.form_values(definition),
        posted=posted,
        errors=errors,
        field_errors={error.field: error.message for error in errors},
        answered=domain.has_responses(session, survey_id),
        types=editor.TYPE_DESCRIPTIONS,
        preview_op=editor.PREVIEW,
        condition_types=editor.CONDITION_TYPES,
        condition_value=editor.condition_value,
        condition_choices=editor.condition_choices,
    ), (422 if errors else 200)


@bp.post("/<int:survey_id>/edit/preview")
@login_required
def edit_preview(survey_id: int):
    """The preview beside the builder for the form as it stands (sent by the page's script as the
    evaluator types); nothing is saved."""
    return render_template("survey/surveys/_preview.html", **_preview(get_or_404(Survey, survey_id)))


def _preview(survey: Survey) -> dict:
    """The preview's template values for the posted form: its survey, or why it cannot be shown."""
    try:
        return _preview_context(editor.preview_form(survey, request.form))
    except DefinitionError as exc:
        return _preview_context(None, editor.builder_errors(exc.errors, request.form))
    except (ValueError, IndexError, KeyError):
        abort(400)


def _preview_context(definition: SurveyDefinition | None, errors: list[editor.BuilderError] | None = None) -> dict:
    if definition is None:
        return {"preview": None, "preview_errors": errors}
    # Every question is shown, follow-ups too, with the respondent's words for their condition.
    questions = [q for page in definition.pages for q in page.questions]
    return {
        "preview": definition,
        "preview_errors": [],
        "preview_intro": markdown(definition.intro),
        "conditions": {q.key: condition_words(definition, q.show_if) for q in questions if q.show_if},
    }


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Start a survey: blank, from a template, or as a copy of another survey."""
    session = db_session()
    values = request.form if request.method == "POST" else {"start": "blank"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        start, title = values.get("start", ""), values.get("title", "").strip()
        copied = session.get(Survey, _int(values.get("copy_of")) or 0) if start == "copy" else None
        if start == "blank" and not title:
            errors["title"] = _("Skriv enkätens rubrik.")
        elif start == "copy" and copied is None:
            errors["copy_of"] = _("Välj enkäten som ska kopieras.")
        elif start not in ("blank", "copy") and start.removeprefix("template:") not in domain.TEMPLATES:
            errors["start"] = _("Välj hur enkäten ska börja.")
        if len(title) > 300:
            errors["title"] = _("Rubriken får vara högst 300 tecken.")
        if not errors:
            if copied is not None:
                survey = domain.copy_survey(session, copied, title, _admin_id())
            elif start == "blank":
                survey = domain.create_survey(session, domain.blank_definition(title), _admin_id())
            else:
                definition = domain.template_definition(start.removeprefix("template:"), title)
                survey = domain.create_survey(session, definition, _admin_id())
            session.commit()
            flash(_("Enkäten ”%(title)s” är skapad som utkast.", title=survey.title))
            return redirect(url_for("surveys_admin.edit", survey_id=survey.id))
    return render_template(
        "survey/surveys/new.html",
        values=values,
        errors=errors,
        surveys=domain.list_surveys(session),
        templates=domain.TEMPLATES,
    ), (422 if errors else 200)


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


def _admin_id() -> int | None:
    admin = current_admin()
    return admin.id if admin else None


@bp.route("/<int:survey_id>/versions", methods=["GET", "POST"])
@login_required
def versions(survey_id: int):
    """Every saved version of the definition, newest first; restoring one saves it as the newest."""
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    problems: list[str] = []
    if request.method == "POST":
        try:
            restored = domain.restore_version(session, survey, _int(request.form.get("version")) or 0, _admin_id())
        except domain.OrphaningChange as exc:
            session.rollback()
            problems = exc.problems
        else:
            if not restored:
                abort(404)
            session.commit()
            flash(_("Den valda versionen är återställd och sparad som den senaste."))
            return redirect(url_for("surveys_admin.versions", survey_id=survey_id))
    return render_template(
        "survey/surveys/versions.html",
        survey=survey,
        versions=domain.list_versions(session, survey_id),
        problems=problems,
    ), (422 if problems else 200)


@bp.get("/<int:survey_id>/export")
@login_required
def export(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    return Response(
        domain.export_yaml(survey),
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="enkat-{survey_id}.yaml"'},
    )
