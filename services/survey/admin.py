"""What evaluators see: their surveys, definitions, participants, mail texts, sending and preview."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.survey import invitations, participants, responses, surveys
from services.survey.definitions import DefinitionError, parse_moment_text
from services.survey.public import page_context
from shared.models import Survey
from shared.web import db_session, get_or_404, services
from shared.web.auth import login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
MAX_UPLOAD = 2 * 1024 * 1024



def _uploaded_text(field: str, text_field: str | None = None) -> str:
    upload = request.files.get(field)
    if upload and upload.filename:
        raw = upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            abort(413)
        return participants.decode_csv(raw)
    return request.form.get(text_field or "", "") if text_field else ""


@bp.get("/")
@login_required
def index():
    return render_template("survey/admin/index.html", surveys=surveys.list_surveys(db_session()), errors=[], source="")


@bp.post("/surveys")
@login_required
def create():
    source = _uploaded_text("file", "source")
    session = db_session()
    try:
        survey = surveys.import_survey_text(session, source)
    except DefinitionError as exc:
        session.rollback()
        return render_template(
            "survey/admin/index.html", surveys=surveys.list_surveys(session), errors=exc.errors, source=source
        ), 422
    session.commit()
    flash(_("Enkäten ”%(title)s” är skapad som utkast.", title=survey.title))
    return redirect(url_for("admin.survey", survey_id=survey.id))


@bp.get("/surveys/<int:survey_id>")
@login_required
def survey(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    uninvited, due = invitations.count_due(session, survey)
    return render_template(
        "survey/admin/survey.html",
        survey=survey,
        row=surveys.list_surveys(session, survey_id)[0],
        counts=participants.status_counts(session, survey_id),
        labels=participants.status_labels(),
        uninvited=uninvited,
        due=due,
        closes=invitations.closing_text(survey),
    )


@bp.post("/surveys/<int:survey_id>/status")
@login_required
def set_status(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    try:
        if request.form.get("status") == "open":
            surveys.open_survey(session, survey)
            flash(_("Enkäten är öppen för svar."))
        elif request.form.get("status") == "closed":
            surveys.close_survey(session, survey)
            flash(_("Enkäten är stängd. Länkarna visar nu att den är stängd."))
    except surveys.SurveyStateError as exc:
        flash(str(exc))
    session.commit()
    return redirect(url_for("admin.survey", survey_id=survey_id))


@bp.route("/surveys/<int:survey_id>/definition", methods=["GET", "POST"])
@login_required
def definition(survey_id: int):
    """The editable YAML (first version of the editor: a text area with errors per path)."""
    survey = get_or_404(Survey, survey_id)
    errors: list[str] = []
    source = surveys.export_yaml(survey)
    if request.method == "POST":
        source = _uploaded_text("file", "source")
        session = db_session()
        try:
            surveys.replace_definition(session, survey, source)
        except (DefinitionError, surveys.SurveyStateError) as exc:
            session.rollback()
            errors = exc.errors if isinstance(exc, DefinitionError) else [str(exc)]
        else:
            session.commit()
            flash(_("Ändringarna är sparade."))
            return redirect(url_for("admin.survey", survey_id=survey_id))
    status = 422 if errors else 200
    return render_template("survey/admin/definition.html", survey=survey, source=source, errors=errors), status


def _form_name(path: str) -> str:
    """``pages[1].questions[0].text`` (an error path) → ``pages.1.questions.0.text`` (a form name)."""
    return path.replace("[", ".").replace("]", "")


@bp.route("/surveys/<int:survey_id>/edit", methods=["GET", "POST"])
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
            surveys.edit_texts(session, survey, request.form)
            if op:
                kind, page, index = op.split(":")
                if kind == "remove":
                    surveys.remove_question(session, survey, int(page), int(index))
                else:
                    surveys.move_question(session, survey, int(page), int(index), -1 if kind == "up" else 1)
        except DefinitionError as exc:
            session.rollback()
            for error in exc.errors:
                path, _sep, message = error.partition(": ")
                if message and request.form.get(_form_name(path)) is not None:
                    errors[_form_name(path)] = message
                else:
                    other_errors.append(error)
        except surveys.SurveyStateError as exc:
            session.rollback()
            other_errors.append(str(exc))
        except (ValueError, IndexError):
            session.rollback()
            abort(400)
        else:
            session.commit()
            flash(_("Ändringarna är sparade."))
            return redirect(url_for("admin.edit", survey_id=survey_id) + (f"#q-{op.split(':', 1)[1]}" if op else ""))
    values = request.form if request.method == "POST" else dict(surveys.text_fields(survey.definition))
    return render_template(
        "survey/admin/edit.html",
        survey=survey,
        definition=survey.definition,
        values=values,
        errors=errors,
        other_errors=other_errors,
        posted=request.method == "POST",
    ), (422 if errors or other_errors else 200)


@bp.get("/surveys/<int:survey_id>/export")
@login_required
def export(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    return Response(
        surveys.export_yaml(survey),
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="enkat-{survey_id}.yaml"'},
    )


@bp.route("/surveys/<int:survey_id>/preview", methods=["GET", "POST"])
@login_required
def preview(survey_id: int):
    """The respondent's view; answers are checked but never stored."""
    survey = get_or_404(Survey, survey_id)
    pages = survey.definition["pages"]
    values, errors = {}, {}
    page = request.args.get("page", 0, type=int)
    if request.method == "POST":
        page = request.form.get("page", 0, type=int)
        page = min(max(page, 0), len(pages) - 1)
        values = responses.pick(pages[page]["questions"], request.form)
        action = request.form.get("action", "next")
        if action in ("next", "submit"):
            errors = responses.check_questions(pages[page]["questions"], values, require=True)
        if not errors:
            if action == "submit":
                flash(_("Förhandsvisningen är slut. Så här långt kommer den som svarar; svaren sparades inte."))
                return redirect(url_for("admin.survey", survey_id=survey_id))
            step = -1 if action == "back" else 1
            page = min(max(page + step, 0), len(pages) - 1)
            values = {}
    page = min(max(page, 0), len(pages) - 1)
    context = page_context(survey, page, values, errors, preview=True)
    return render_template(
        "survey/answer/page.html", token="", form_action=url_for("admin.preview", survey_id=survey_id), **context
    ), (422 if errors else 200)


@bp.route("/surveys/<int:survey_id>/settings", methods=["GET", "POST"])
@login_required
def settings(survey_id: int):
    """Mail texts with placeholders, contact, reminder rules and the closing date."""
    survey = get_or_404(Survey, survey_id)
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        session = db_session()

        def number(name: str, current: int) -> int:
            try:
                return int(form.get(name, current))
            except ValueError:
                errors[name] = _("Ange ett heltal.")
                return current

        texts = invitations.MailTexts(
            invitation_subject=form.get("invitation_subject", ""),
            invitation_text=form.get("invitation_text", "").replace("\r\n", "\n"),
            reminder_subject=form.get("reminder_subject", ""),
            reminder_text=form.get("reminder_text", "").replace("\r\n", "\n"),
            contact_name=form.get("contact_name", "").strip()[:200],
            contact_email=form.get("contact_email", "").strip()[:320],
            max_reminders=number("max_reminders", survey.max_reminders),
            reminder_interval_days=number("reminder_interval_days", survey.reminder_interval_days),
        )
        if texts.contact_email:
            try:
                texts.contact_email = participants.normalise_email(texts.contact_email)
            except ValueError as exc:
                errors["contact_email"] = str(exc)
        closes = form.get("closes", "").strip()
        if closes:
            try:
                parse_moment_text(closes)
            except ValueError:
                errors["closes"] = _("Skriv datumet som ÅÅÅÅ-MM-DD.")
        if not errors:
            errors = invitations.save_mail_texts(session, survey, texts)
        if not errors:
            surveys.set_closes(session, survey, closes or None)
            session.commit()
            flash(_("Inställningarna är sparade."))
            return redirect(url_for("admin.settings", survey_id=survey_id))
        session.rollback()
    values = form if request.method == "POST" else {
        "invitation_subject": survey.invitation_subject,
        "invitation_text": survey.invitation_text,
        "reminder_subject": survey.reminder_subject,
        "reminder_text": survey.reminder_text,
        "contact_name": survey.contact_name,
        "contact_email": survey.contact_email,
        "max_reminders": survey.max_reminders,
        "reminder_interval_days": survey.reminder_interval_days,
        "closes": (survey.definition or {}).get("closes", ""),
    }
    return render_template(
        "survey/admin/settings.html",
        survey=survey,
        values=values,
        errors=errors,
        placeholders=invitations.PLACEHOLDERS,
    ), (422 if errors else 200)


@bp.get("/surveys/<int:survey_id>/mail-preview")
@login_required
def mail_preview(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    kind = "reminder" if request.args.get("kind") == "reminder" else "invitation"
    chosen = request.args.get("participant", type=int)
    participant = participants.get_participant(session, survey_id, chosen) if chosen else None
    people, _total = participants.list_participants(session, survey_id, limit=500)
    try:
        subject, text = invitations.preview_mail(services().config, survey, participant, kind)
        problem = None
    except Exception as exc:  # noqa: BLE001 - a broken template is shown to the evaluator, not raised
        subject, text, problem = "", "", str(exc)
    return render_template(
        "survey/admin/mail_preview.html",
        survey=survey,
        kind=kind,
        participant=participant,
        people=people,
        subject=subject,
        text=text,
        problem=problem,
    )


@bp.post("/surveys/<int:survey_id>/send")
@login_required
def send(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    kind = request.form.get("kind")
    try:
        if kind == "reminders":
            report = invitations.send_reminders(session, services().config, survey)
            message = _("%(n)s påminnelser lades i utkorgen.", n=report.sent)
        else:
            report = invitations.send_invitations(session, services().config, survey)
            message = _("%(n)s inbjudningar lades i utkorgen.", n=report.sent)
    except surveys.SurveyStateError as exc:
        session.rollback()
        flash(str(exc))
        return redirect(url_for("admin.survey", survey_id=survey_id))
    session.commit()
    if report.suppressed:
        message += " " + _("%(n)s adresser är spärrade och hoppades över.", n=report.suppressed)
    flash(message)
    return redirect(url_for("admin.survey", survey_id=survey_id))


@bp.get("/surveys/<int:survey_id>/participants")
@login_required
def participant_list(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    status = request.args.get("status") or None
    search = request.args.get("q", "")
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = participants.list_participants(session, survey_id, status, search, limit=100, offset=(page - 1) * 100)
    return render_template(
        "survey/admin/participants.html",
        survey=survey,
        rows=rows,
        total=total,
        page=page,
        status=status,
        search=search,
        counts=participants.status_counts(session, survey_id),
        labels=participants.status_labels(),
        report=None,
        errors={},
        values={},
    )


@bp.post("/surveys/<int:survey_id>/participants/import")
@login_required
def participant_import(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    text = _uploaded_text("file", "csv_text")
    if not text.strip():
        flash(_("Välj en CSV-fil att läsa in."))
        return redirect(url_for("admin.participant_list", survey_id=survey_id))
    report = participants.import_participants_csv(session, survey_id, text)
    session.commit()
    rows, total = participants.list_participants(session, survey_id, limit=100)
    return render_template(
        "survey/admin/participants.html",
        survey=survey,
        rows=rows,
        total=total,
        page=1,
        status=None,
        search="",
        counts=participants.status_counts(session, survey_id),
        labels=participants.status_labels(),
        report=report,
        errors={},
        values={},
    )


@bp.route("/surveys/<int:survey_id>/participants/new", methods=["POST"])
@bp.route("/surveys/<int:survey_id>/participants/<int:participant_id>", methods=["GET", "POST"])
@login_required
def participant_edit(survey_id: int, participant_id: int | None = None):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    participant = participants.get_participant(session, survey_id, participant_id) if participant_id else None
    if participant_id and participant is None:
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            saved = participants.save_participant(
                session,
                survey_id,
                request.form.get("email", ""),
                request.form.get("name", ""),
                request.form.get("attributes", ""),
                participant_id,
            )
        except participants.ParticipantError as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            flash(_("%(email)s är sparad.", email=saved.email))
            return redirect(url_for("admin.participant_list", survey_id=survey_id))
    values = request.form if request.method == "POST" else {
        "email": participant.email,
        "name": participant.name,
        "attributes": participants.attributes_as_text(participant.attributes),
    }
    return render_template(
        "survey/admin/participant.html",
        survey=survey,
        participant=participant,
        values=values,
        errors=errors,
        status=participants.status_labels(),
        answers=responses.readable_answers(session, survey, participant.id) if participant else [],
    ), (422 if errors else 200)


@bp.post("/surveys/<int:survey_id>/participants/<int:participant_id>/remove")
@login_required
def participant_remove(survey_id: int, participant_id: int):
    get_or_404(Survey, survey_id)
    session = db_session()
    if participants.remove_participant(session, survey_id, participant_id):
        flash(_("Deltagaren är borttagen."))
    session.commit()
    return redirect(url_for("admin.participant_list", survey_id=survey_id))
