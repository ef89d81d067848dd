"""The evaluators' mail pages: mail texts and reminder rules (with the closing date), a preview of the
mails as a chosen participant gets them, and the buttons that send invitations and reminders."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.survey.mailings import domain, rendering
from services.survey.mailings.forms import read_settings
from services.survey.participants.domain import get_participant, list_participants
from services.survey.surveys.domain import SurveyStateError
from services.survey.surveys.questions import definition_of
from shared.models import MailKind, Survey
from shared.web import db_session, get_or_404, services
from shared.web.auth import login_required

bp = Blueprint("mailings_admin", __name__, url_prefix="/admin/surveys/<int:survey_id>")


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings(survey_id: int):
    """Mail texts with placeholders, contact, reminder rules and the closing date."""
    survey = get_or_404(Survey, survey_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        session = db_session()
        texts, closes, errors = read_settings(request.form, survey)
        if not errors:
            errors = domain.save_settings(session, survey, texts, closes or None)
        if not errors:
            session.commit()
            flash(_("Inställningarna är sparade."))
            return redirect(url_for("mailings_admin.settings", survey_id=survey_id))
        session.rollback()
    values = (
        request.form
        if request.method == "POST"
        else {
            "invitation_subject": survey.invitation_subject,
            "invitation_text": survey.invitation_text,
            "reminder_subject": survey.reminder_subject,
            "reminder_text": survey.reminder_text,
            "contact_name": survey.contact_name,
            "contact_email": survey.contact_email,
            "max_reminders": survey.max_reminders,
            "reminder_interval_days": survey.reminder_interval_days,
            "closes": definition_of(survey).closes or "",
        }
    )
    return render_template(
        "survey/mailings/settings.html",
        survey=survey,
        values=values,
        errors=errors,
        placeholders=rendering.PLACEHOLDERS,
    ), (422 if errors else 200)


@bp.get("/mail-preview")
@login_required
def preview(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    kind = MailKind.SURVEY_REMINDER if request.args.get("kind") == "reminder" else MailKind.SURVEY_INVITATION
    chosen = request.args.get("participant", type=int)
    participant = get_participant(session, survey_id, chosen) if chosen else None
    people = list_participants(session, survey_id, limit=500).rows
    try:
        subject, text = rendering.preview_mail(services().config, survey, participant, kind)
        problem = None
    except Exception as exc:
        subject, text, problem = "", "", str(exc)
    return render_template(
        "survey/mailings/preview.html",
        survey=survey,
        kind=kind,
        participant=participant,
        people=people,
        subject=subject,
        text=text,
        problem=problem,
    )


@bp.post("/send")
@login_required
def send(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    kind = request.form.get("kind")
    try:
        if kind == "reminders":
            report = domain.send_reminders(session, services().config, survey)
            message = _("%(n)s påminnelser lades i utkorgen.", n=report.sent)
        else:
            report = domain.send_invitations(session, services().config, survey)
            message = _("%(n)s inbjudningar lades i utkorgen.", n=report.sent)
    except SurveyStateError as exc:
        session.rollback()
        flash(str(exc))
        return redirect(url_for("surveys_admin.survey", survey_id=survey_id))
    session.commit()
    if report.suppressed:
        message += " " + _("%(n)s adresser är spärrade och hoppades över.", n=report.suppressed)
    flash(message)
    return redirect(url_for("surveys_admin.survey", survey_id=survey_id))
