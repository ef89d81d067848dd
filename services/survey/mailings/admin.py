"""The evaluators' mail pages: mail texts and reminder rules (with the closing date), a preview of the
mails as a chosen participant gets them, and the buttons that send invitations and reminders."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.survey.mailings import domain, rendering
from services.survey.mailings.forms import read_settings
from services.survey.participants.domain import get_participant, list_participants
from services.survey.surveys.domain import SurveyStateError
from services.survey.surveys.questions import definition_of
from shared.models import MailKind, Survey
from shared.web import db_session, get_or_404, services
from shared.web.auth import current_admin, login_required

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
            "contact_phone": survey.contact_phone,
            "max_reminders": survey.max_reminders,
            "reminder_interval_days": survey.reminder_interval_days,
            "reminder_days": ", ".join(map(str, survey.reminder_days)),
            "reminder_time": survey.reminder_time,
            "reminder_weekdays_only": "on" if survey.reminder_weekdays_only else "",
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


# The two mailings a survey page offers, as their addresses spell them.
MAILINGS = {"invitations": MailKind.SURVEY_INVITATION, "reminders": MailKind.SURVEY_REMINDER}


@bp.route("/send/<mailing>", methods=["GET", "POST"])
@login_required
def send(survey_id: int, mailing: str):
    """The confirmation page (how many, a sample mail), and on "Skicka nu" the job that sends."""
    survey = get_or_404(Survey, survey_id)
    kind = MAILINGS.get(mailing) or abort(404)
    session = db_session()
    if request.method == "POST":
        admin = current_admin()
        try:
            job = domain.start_sending(
                session,
                survey,
                kind,
                created_by=admin.id if admin else None,
                return_path=url_for("surveys_admin.survey", survey_id=survey_id),
            )
        except SurveyStateError as exc:
            session.rollback()
            flash(str(exc))
            return redirect(url_for("surveys_admin.survey", survey_id=survey_id))
        session.commit()
        return redirect(url_for("jobs.show", job_id=job.id))
    counts = domain.count_recipients(session, survey, kind)
    participant = domain.first_recipient(session, survey, kind)
    try:
        domain.check_sendable(survey)
        problem = None
    except SurveyStateError as exc:
        problem = str(exc)
    subject, text = rendering.preview_mail(services().config, survey, participant, kind) if not problem else ("", "")
    return render_template(
        "survey/mailings/confirm.html",
        survey=survey,
        kind=kind,
        mailing=mailing,
        counts=counts,
        participant=participant,
        subject=subject,
        text=text,
        problem=problem,
    )


@bp.post("/reminders/pause")
@login_required
def pause_reminders(survey_id: int):
    """Pause the automatic reminders, or let them go on."""
    survey = get_or_404(Survey, survey_id)
    session = db_session()
    survey.reminders_paused = request.form.get("paused") == "on"
    session.commit()
    paused = survey.reminders_paused
    flash(_("De automatiska påminnelserna är pausade.") if paused else _("De automatiska påminnelserna är igång."))
    return redirect(url_for("surveys_admin.survey", survey_id=survey_id) + "#reminders")
