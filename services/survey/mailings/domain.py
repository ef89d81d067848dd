"""Invitations and reminders: saving the evaluator's mail texts and reminder rules, sending through
the outbox (claimed in SQL so a double click sends once), and declining further reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session

from services.survey.mailings.rendering import TEXT_FIELDS, personal_link, render_mail, template_error
from services.survey.participants.domain import new_links
from services.survey.surveys.domain import SurveyStateError, set_closes
from shared.clock import utcnow
from shared.config import Config
from shared.mail.message import has_control_characters
from shared.mail.outbox import enqueue
from shared.models import MailKind, Participant, Suppression, Survey, SurveyStatus


@dataclass
class MailTexts:
    invitation_subject: str
    invitation_text: str
    reminder_subject: str
    reminder_text: str
    contact_name: str
    contact_email: str
    max_reminders: int
    reminder_interval_days: int


def save_settings(session: Session, survey: Survey, texts: MailTexts, closes: str | None) -> dict[str, str]:
    """The settings page's save: mail texts, reminder rules and the closing date (nothing if any error)."""
    errors = save_mail_texts(session, survey, texts)
    if not errors:
        set_closes(session, survey, closes)
    return errors


def save_mail_texts(session: Session, survey: Survey, texts: MailTexts) -> dict[str, str]:
    """Store the mail texts and reminder rules; returns errors per field (nothing stored if any)."""
    errors = {}
    for name in ("invitation_subject", "invitation_text", "reminder_subject", "reminder_text"):
        value = getattr(texts, name)
        problem = _("Fyll i en text.") if not value.strip() else template_error(value)
        if not problem and name.endswith("subject") and has_control_characters(value.strip()):
            # The subject becomes a mail header: a line break in it would add headers of its own.
            problem = _("Ämnesraden får inte innehålla radbrytningar eller andra styrtecken.")
        if problem:
            errors[name] = problem
    if not 0 <= texts.max_reminders <= 10:
        errors["max_reminders"] = _("Ange ett tal mellan 0 och 10.")
    if not 1 <= texts.reminder_interval_days <= 90:
        errors["reminder_interval_days"] = _("Ange ett antal dagar mellan 1 och 90.")
    if errors:
        return errors
    for name, value in vars(texts).items():
        setattr(survey, name, value.strip() if isinstance(value, str) and name.endswith("subject") else value)
    survey.updated_at = utcnow()
    return {}


def _suppressed():
    return exists().where(Suppression.email == func.lower(Participant.email))


@dataclass
class SendReport:
    sent: int
    suppressed: int


def _enqueue_all(session: Session, config: Config, survey: Survey, kind: MailKind, claimed) -> int:
    # Each mail gets a link of its own; earlier mails' links keep working.
    tokens = new_links(session, [participant_id for participant_id, _email, _name in claimed])
    sent = 0
    for participant_id, email, name in claimed:
        token = tokens[participant_id]
        subject, text, html_body = render_mail(config, survey, kind, name, token)
        decline_link = personal_link(config, token) + "/decline"
        enqueue(
            session,
            config,
            kind=kind,
            to_email=email,
            to_name=" ".join(name.split()),  # a header is one line
            subject=subject,
            text=text,
            html=html_body,
            language=survey.language,
            # The mail client's own "unsubscribe" button declines further reminders (RFC 8058).
            headers={"List-Unsubscribe": f"<{decline_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )
        sent += 1
    return sent


def _check_sendable(survey: Survey) -> None:
    if survey.status == SurveyStatus.DRAFT:
        raise SurveyStateError(_("Öppna enkäten innan du skickar inbjudningar."))
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyStateError(_("Enkäten är stängd."))
    for fields in TEXT_FIELDS.values():
        for field in fields:
            if template_error(getattr(survey, field)):
                raise SurveyStateError(_("Mejltexterna har fel. Rätta dem under ”Mejltexter”."))


def send_invitations(session: Session, config: Config, survey: Survey, now: datetime | None = None) -> SendReport:
    """Mail everyone not yet invited (suppressed addresses are skipped). Caller commits.

    The UPDATE … RETURNING claims the people in the same transaction as their mails are written, so a
    second click at the same moment finds nobody left to invite.
    """
    _check_sendable(survey)
    now = now or utcnow()
    claimed = session.execute(
        update(Participant)
        .where(Participant.survey_id == survey.id, Participant.invited_at.is_(None), ~_suppressed())
        .values(invited_at=now)
        .returning(Participant.id, Participant.email, Participant.name)
        .execution_options(synchronize_session=False)
    ).all()
    sent = _enqueue_all(session, config, survey, MailKind.SURVEY_INVITATION, claimed)
    suppressed = session.scalar(
        select(func.count()).where(Participant.survey_id == survey.id, Participant.invited_at.is_(None), _suppressed())
    )
    return SendReport(sent=sent, suppressed=suppressed or 0)


def reminder_filter(survey: Survey, now: datetime):
    """Who is due a reminder: invited, not answered, not declined, under the limit, quiet long enough."""
    cutoff = now - timedelta(days=survey.reminder_interval_days)
    return and_(
        Participant.survey_id == survey.id,
        Participant.invited_at.is_not(None),
        Participant.completed_at.is_(None),
        Participant.declined_at.is_(None),
        Participant.reminders_sent < survey.max_reminders,
        func.coalesce(Participant.last_reminded_at, Participant.invited_at) <= cutoff,
    )


def send_reminders(session: Session, config: Config, survey: Survey, now: datetime | None = None) -> SendReport:
    """Remind those due a reminder (see ``reminder_filter``); suppressed addresses are skipped."""
    _check_sendable(survey)
    now = now or utcnow()
    claimed = session.execute(
        update(Participant)
        .where(reminder_filter(survey, now), ~_suppressed())
        .values(reminders_sent=Participant.reminders_sent + 1, last_reminded_at=now)
        .returning(Participant.id, Participant.email, Participant.name)
        .execution_options(synchronize_session=False)
    ).all()
    sent = _enqueue_all(session, config, survey, MailKind.SURVEY_REMINDER, claimed)
    suppressed = session.scalar(select(func.count()).where(reminder_filter(survey, now), _suppressed()))
    return SendReport(sent=sent, suppressed=suppressed or 0)


def count_due(session: Session, survey: Survey, now: datetime | None = None) -> tuple[int, int]:
    """(not yet invited, due a reminder) — what the two buttons would send now."""
    now = now or utcnow()
    uninvited = session.scalar(
        select(func.count()).where(Participant.survey_id == survey.id, Participant.invited_at.is_(None), ~_suppressed())
    )
    due = session.scalar(select(func.count()).where(reminder_filter(survey, now), ~_suppressed()))
    return uninvited or 0, due or 0


def decline(session: Session, participant: Participant) -> None:
    """No more reminders for this person (idempotent)."""
    session.execute(
        update(Participant)
        .where(Participant.id == participant.id, Participant.declined_at.is_(None))
        .values(declined_at=utcnow())
        .execution_options(synchronize_session=False)
    )
