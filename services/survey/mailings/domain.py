"""Invitations and reminders: saving the evaluator's mail texts and reminder rules, sending through
the outbox (claimed in SQL so a double click sends once) as a job in batches, and declining further
reminders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, func, or_, select, update
from sqlalchemy.orm import Session

from services.survey.mailings.rendering import TEXT_FIELDS, MailTemplate, personal_link, text_error
from services.survey.participants.domain import new_links
from services.survey.surveys.domain import SurveyStateError, set_closes
from shared import organisation
from shared.clock import utcnow
from shared.config import Config
from shared.i18n import LOCAL_ZONE, to_local
from shared.jobs import JobContext, JobProblem, start_job
from shared.mail.message import has_control_characters
from shared.mail.outbox import Mail, enqueue_many
from shared.models import Job, JobKind, MailKind, Participant, Suppression, Survey, SurveyStatus


@dataclass
class MailTexts:
    invitation_subject: str
    invitation_text: str
    reminder_subject: str
    reminder_text: str
    contact_name: str
    contact_email: str
    contact_phone: str
    max_reminders: int
    reminder_interval_days: int
    reminder_days: list[int] = field(default_factory=list)
    reminder_time: str = "09:00"
    reminder_weekdays_only: bool = True


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
        problem = _("Fyll i en text.") if not value.strip() else text_error(value)
        if not problem and name.endswith("subject") and has_control_characters(value.strip()):
            # The subject becomes a mail header: a line break in it would add headers of its own.
            problem = _("Ämnesraden får inte innehålla radbrytningar eller andra styrtecken.")
        if problem:
            errors[name] = problem
    if not 0 <= texts.max_reminders <= 10:
        errors["max_reminders"] = _("Ange ett tal mellan 0 och 10.")
    if not 1 <= texts.reminder_interval_days <= 90:
        errors["reminder_interval_days"] = _("Ange ett antal dagar mellan 1 och 90.")
    days = texts.reminder_days
    if len(days) > 5 or any(not 1 <= d <= 90 for d in days) or days != sorted(set(days)):
        errors["reminder_days"] = _("Ange högst fem antal dagar mellan 1 och 90 i stigande ordning, t.ex. 7, 14.")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", texts.reminder_time):
        errors["reminder_time"] = _("Skriv klockslaget som TT:MM, t.ex. 09:00.")
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


# Recipients claimed and mailed per transaction: a job reports progress (and can be interrupted
# without loss) after each batch.
BATCH = 1000
JOB_KINDS = {MailKind.SURVEY_INVITATION: JobKind.SURVEY_INVITATIONS, MailKind.SURVEY_REMINDER: JobKind.SURVEY_REMINDERS}


def _recipients(survey: Survey, kind: MailKind, now: datetime, automatic: bool = False):
    """Who a mailing of ``kind`` goes to now (suppressed addresses included: callers add ``_suppressed``)."""
    if kind == MailKind.SURVEY_INVITATION:
        return and_(Participant.survey_id == survey.id, Participant.invited_at.is_(None))
    return automatic_filter(survey, now) if automatic else reminder_filter(survey, now)


def send_batch(
    session: Session,
    config: Config,
    survey: Survey,
    kind: MailKind,
    now: datetime,
    limit: int | None,
    automatic: bool = False,
) -> int:
    """Claim up to ``limit`` recipients and write their mails; returns how many (0: nobody left).

    The UPDATE … RETURNING repeats the recipients' condition, so a concurrent send finds the people
    already claimed; links go in with one INSERT, mails with another.
    """
    who = and_(_recipients(survey, kind, now, automatic), ~_suppressed())
    chosen = select(Participant.id).where(who).order_by(Participant.id)
    if limit is not None:
        chosen = chosen.limit(limit)
    marks = (
        {"invited_at": now}
        if kind == MailKind.SURVEY_INVITATION
        else {"reminders_sent": Participant.reminders_sent + 1, "last_reminded_at": now}
    )
    claimed = session.execute(
        update(Participant)
        .where(who, Participant.id.in_(chosen.scalar_subquery()))
        .values(**marks)
        .returning(Participant.id, Participant.email, Participant.name)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return 0
    # Each mail gets a link of its own; earlier mails' links keep working.
    tokens = new_links(session, [participant_id for participant_id, _email, _name in claimed])
    mails = []
    template = MailTemplate(config, survey, kind, organisation.load(session, config))
    for participant_id, email, name in claimed:
        token = tokens[participant_id]
        subject, text, html_body = template.render(name, token)
        decline_link = personal_link(config, token) + "/decline"
        # The mail client's own "unsubscribe" button declines further reminders (RFC 8058).
        headers = {"List-Unsubscribe": f"<{decline_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        mails.append(Mail(email, " ".join(name.split()), subject, text, html_body, headers))  # a header is one line
    enqueue_many(session, config, kind, mails, survey.language)
    return len(claimed)


def check_sendable(survey: Survey) -> None:
    """Raise SurveyStateError (for the evaluator) when the survey's mails cannot go out now."""
    if survey.status == SurveyStatus.DRAFT:
        raise SurveyStateError(_("Öppna enkäten innan du skickar inbjudningar."))
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyStateError(_("Enkäten är stängd."))
    for fields in TEXT_FIELDS.values():
        for name in fields:
            if text_error(getattr(survey, name)):
                raise SurveyStateError(_("Mejltexterna har fel. Rätta dem under ”Mejltexter”."))


def _send_all(session: Session, config: Config, survey: Survey, kind: MailKind, now: datetime | None) -> SendReport:
    check_sendable(survey)
    now = now or utcnow()
    sent = send_batch(session, config, survey, kind, now, limit=None)
    suppressed = session.scalar(select(func.count()).where(_recipients(survey, kind, now), _suppressed()))
    return SendReport(sent=sent, suppressed=suppressed or 0)


def send_invitations(session: Session, config: Config, survey: Survey, now: datetime | None = None) -> SendReport:
    """Mail everyone not yet invited in this transaction (suppressed addresses are skipped); the
    command line's way. Pages start a job instead (``start_sending``)."""
    return _send_all(session, config, survey, MailKind.SURVEY_INVITATION, now)


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


def automatic_filter(survey: Survey, now: datetime):
    """Who is due an automatic reminder: invited, not answered, not declined, and invited on a day at
    least ``reminder_days[n]`` days before today (Swedish days), n being the reminders already sent."""
    today = to_local(now).date()
    due = [
        and_(Participant.reminders_sent == n, Participant.invited_at < _local_midnight(today - timedelta(days - 1)))
        for n, days in enumerate(survey.reminder_days)
    ]
    return and_(
        Participant.survey_id == survey.id,
        Participant.invited_at.is_not(None),
        Participant.completed_at.is_(None),
        Participant.declined_at.is_(None),
        or_(false(), *due),
    )


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_ZONE).astimezone(UTC)


def send_reminders(session: Session, config: Config, survey: Survey, now: datetime | None = None) -> SendReport:
    """Remind those due a reminder (see ``reminder_filter``); suppressed addresses are skipped."""
    return _send_all(session, config, survey, MailKind.SURVEY_REMINDER, now)


def count_due(session: Session, survey: Survey, now: datetime | None = None) -> tuple[int, int]:
    """(not yet invited, due a reminder) — what the two buttons would send now."""
    now = now or utcnow()
    return (
        count_recipients(session, survey, MailKind.SURVEY_INVITATION, now).sent,
        count_recipients(session, survey, MailKind.SURVEY_REMINDER, now).sent,
    )


def count_recipients(session: Session, survey: Survey, kind: MailKind, now: datetime | None = None) -> SendReport:
    """How many a mailing of ``kind`` would go to now, and how many are skipped as suppressed (one query)."""
    now = now or utcnow()
    suppressed = _suppressed()
    row = session.execute(
        select(func.count(), func.count().filter(suppressed)).where(_recipients(survey, kind, now))
    ).one()
    return SendReport(sent=row[0] - row[1], suppressed=row[1])


def first_recipient(session: Session, survey: Survey, kind: MailKind) -> Participant | None:
    """The person the confirmation page's sample mail is written for."""
    who = and_(_recipients(survey, kind, utcnow()), ~_suppressed())
    return session.scalar(select(Participant).where(who).order_by(Participant.id).limit(1))


def start_sending(session: Session, survey: Survey, kind: MailKind, *, created_by: int | None, return_path: str) -> Job:
    """Queue the job that sends a survey's invitations or reminders (after the confirmation page)."""
    check_sendable(survey)
    total = count_recipients(session, survey, kind).sent
    if not total:
        raise SurveyStateError(_("Det finns ingen att skicka till just nu."))
    title = (
        _("Inbjudningar: %(title)s", title=survey.title)
        if kind == MailKind.SURVEY_INVITATION
        else _("Påminnelser: %(title)s", title=survey.title)
    )
    return start_job(
        session,
        JOB_KINDS[kind],
        service="survey",
        title=title,
        params={"survey_id": survey.id, "mail_kind": kind.value},
        created_by=created_by,
        return_path=return_path,
        total=total,
    )


def sending_job(ctx: JobContext) -> None:
    """Send in batches, each claimed and written in one transaction, with progress after each."""
    kind = MailKind(ctx.params["mail_kind"])
    done = int(ctx.checkpoint.get("done", 0))
    while True:
        with ctx.db.transaction() as session:
            survey = session.get(Survey, ctx.params["survey_id"])
            if survey is None:
                raise JobProblem(_("Enkäten finns inte längre."))
            try:
                check_sendable(survey)
            except SurveyStateError as exc:
                raise JobProblem(str(exc)) from None
            sent = send_batch(session, ctx.config, survey, kind, utcnow(), BATCH)
            left = count_recipients(session, survey, kind).sent
        done += sent
        ctx.progress(done, done + left, checkpoint={"done": done})
        if not sent:
            break
    ctx.summary.append(_("%(n)s mejl lades i utkorgen.", n=done))


def decline(session: Session, participant: Participant) -> None:
    """No more reminders for this person (idempotent)."""
    session.execute(
        update(Participant)
        .where(Participant.id == participant.id, Participant.declined_at.is_(None))
        .values(declined_at=utcnow())
        .execution_options(synchronize_session=False)
    )
