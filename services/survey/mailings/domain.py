"""Invitations and reminders: saving the evaluator's mail texts and reminder rules, sending (a
mailing fanned out to its recipients in one INSERT … SELECT, so a double click sends once; each mail
written to the outbox later by the worker, in batches) and declining further reminders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, false, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from services.survey.mailings.rendering import TEXT_FIELDS, MailTemplate, personal_link, text_error
from services.survey.participants.domain import new_links
from services.survey.surveys.domain import SurveyStateError, set_closes
from shared import organisation
from shared.clock import utcnow
from shared.config import Config
from shared.db import is_postgres
from shared.i18n import LOCAL_ZONE, to_local
from shared.jobs import JobCancelled, JobContext, JobProblem, start_job
from shared.mail.message import has_control_characters
from shared.mail.outbox import Mail, enqueue_many
from shared.models import (
    Job,
    JobKind,
    MailKind,
    Participant,
    Suppression,
    Survey,
    SurveyMail,
    SurveyMailing,
    SurveyMailingBatch,
    SurveyStatus,
)


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


# Mails written per transaction by the worker: a batch is written to the outbox and forgotten from
# ``survey_mails`` together, so a killed worker leaves its batch waiting, neither lost nor doubled.
BATCH = 1000
JOB_KINDS = {MailKind.SURVEY_INVITATION: JobKind.SURVEY_INVITATIONS, MailKind.SURVEY_REMINDER: JobKind.SURVEY_REMINDERS}


def _recipients(survey: Survey, kind: MailKind, now: datetime, automatic: bool = False):
    """Who a mailing of ``kind`` goes to now (suppressed addresses included: callers add ``_suppressed``).
    Someone whose mail is queued and not yet written is not due another."""
    queued = exists().where(SurveyMail.participant_id == Participant.id)
    if kind == MailKind.SURVEY_INVITATION:
        return and_(Participant.survey_id == survey.id, Participant.invited_at.is_(None), ~queued)
    return and_(automatic_filter(survey, now) if automatic else reminder_filter(survey, now), ~queued)


def fan_out(
    session: Session,
    survey: Survey,
    kind: MailKind,
    now: datetime,
    *,
    automatic: bool = False,
    job_id: int | None = None,
) -> SurveyMailing | None:
    """Queue a mailing to everyone it is due to now (suppressed addresses skipped) with one
    INSERT … SELECT; None (nothing stored) when nobody is due. ``write_mails`` writes the mails and
    marks each person invited or reminded as of ``now``."""
    # Two sends of one survey at once: the second waits here, then finds the first's people queued.
    session.execute(select(Survey.id).where(Survey.id == survey.id).with_for_update())
    mailing = SurveyMailing(survey_id=survey.id, kind=kind, job_id=job_id, created_at=now)
    session.add(mailing)
    session.flush()
    who = and_(_recipients(survey, kind, now, automatic), ~_suppressed())
    session.execute(
        insert(SurveyMail).from_select(
            ["mailing_id", "participant_id"], select(literal(mailing.id), Participant.id).where(who)
        )
    )
    # Counted, not taken from the INSERT: psycopg reports no row count for an INSERT … SELECT built this way.
    mailing.recipients = waiting_mails(session, mailing.id)
    if not mailing.recipients:
        session.delete(mailing)
        session.flush()
        return None
    return mailing


def write_mails(session: Session, config: Config, limit: int | None, mailing_id: int | None = None) -> int:
    """Write up to ``limit`` queued mails (of one mailing, or any) to the outbox, each with a new
    personal link, mark their recipients invited or reminded, and forget them, in the caller's
    transaction; returns how many were taken (0: none queued). On PostgreSQL other workers skip the
    rows this one has taken.

    A reminder to someone who has answered or declined since it was queued, and any mail of a survey
    that has closed since, is dropped rather than written (and its recipient left unmarked).
    """
    query = (
        select(
            SurveyMail.id,
            SurveyMail.mailing_id,
            Participant.id,
            Participant.email,
            Participant.name,
            or_(Participant.completed_at.is_not(None), Participant.declined_at.is_not(None)),
        )
        .join(Participant, Participant.id == SurveyMail.participant_id)
        .order_by(SurveyMail.id)
        .limit(limit)
    )
    if mailing_id is not None:
        query = query.where(SurveyMail.mailing_id == mailing_id)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=SurveyMail)
    rows = session.execute(query).all()
    if not rows:
        return 0
    groups: dict[int, list[tuple[int, str, str, bool]]] = {}
    for _id, of_mailing, participant_id, email, name, answered in rows:
        groups.setdefault(of_mailing, []).append((participant_id, email, name, answered))
    org = organisation.load(session, config)
    for of_mailing, group in groups.items():
        mailing = session.get_one(SurveyMailing, of_mailing)
        survey = session.get_one(Survey, mailing.survey_id)
        reminder = mailing.kind == MailKind.SURVEY_REMINDER
        people = [(pid, email, name) for pid, email, name, answered in group if not (answered and reminder)]
        if survey.status != SurveyStatus.OPEN:
            batch = SurveyMailingBatch(mailing_id=of_mailing, written=0, dropped_closed=len(group), dropped_answered=0)
        else:
            batch = SurveyMailingBatch(
                mailing_id=of_mailing, written=len(people), dropped_closed=0, dropped_answered=len(group) - len(people)
            )
        session.add(batch)
        if survey.status == SurveyStatus.OPEN and people:
            template = MailTemplate(config, survey, mailing.kind, org)
            _write(session, config, template, mailing.kind, survey.language, people)
            marks = (
                {"reminders_sent": Participant.reminders_sent + 1, "last_reminded_at": mailing.created_at}
                if reminder
                else {"invited_at": mailing.created_at}
            )
            session.execute(
                update(Participant)
                .where(Participant.id.in_([pid for pid, _email, _name in people]))
                .values(**marks)
                .execution_options(synchronize_session=False)
            )
    session.execute(delete(SurveyMail).where(SurveyMail.id.in_([row[0] for row in rows])))
    return len(rows)


def _write(
    session: Session,
    config: Config,
    template: MailTemplate,
    kind: MailKind,
    language: str,
    people: list[tuple[int, str, str]],
) -> None:
    # Each mail gets a link of its own, its hash stored now; earlier mails' links keep working.
    tokens = new_links(session, [participant_id for participant_id, _email, _name in people])
    mails = []
    for participant_id, email, name in people:
        token = tokens[participant_id]
        subject, text, html_body = template.render(name, token)
        decline_link = personal_link(config, token) + "/decline"
        # The mail client's own "unsubscribe" button declines further reminders (RFC 8058).
        headers = {"List-Unsubscribe": f"<{decline_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        mails.append(Mail(email, " ".join(name.split()), subject, text, html_body, headers))  # a header is one line
    enqueue_many(session, config, kind, mails, language)


def waiting_mails(session: Session, mailing_id: int) -> int:
    """How many of a mailing's mails the worker has yet to write."""
    return session.scalar(select(func.count()).where(SurveyMail.mailing_id == mailing_id)) or 0


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
    mailing = fan_out(session, survey, kind, now)
    if mailing is not None:
        write_mails(session, config, limit=None, mailing_id=mailing.id)
    suppressed = session.scalar(select(func.count()).where(_recipients(survey, kind, now), _suppressed()))
    return SendReport(sent=mailing.recipients if mailing else 0, suppressed=suppressed or 0)


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
    """Queue everyone in one transaction, then write the mails in batches with progress after each
    (another worker may write some: the job waits for them)."""
    kind = MailKind(ctx.params["mail_kind"])
    with ctx.db.transaction() as session:
        # Taken up again after a crash or a stop: the mailing it made is there, its recipients queued.
        mailing = session.scalar(select(SurveyMailing).where(SurveyMailing.job_id == ctx.job_id))
        if mailing is None:
            survey = session.get(Survey, ctx.params["survey_id"])
            if survey is None:
                raise JobProblem(_("Enkäten finns inte längre."))
            try:
                check_sendable(survey)
            except SurveyStateError as exc:
                raise JobProblem(str(exc)) from None
            mailing = fan_out(session, survey, kind, utcnow(), job_id=ctx.job_id)
        mailing_id, total = (mailing.id, mailing.recipients) if mailing else (None, 0)
    if mailing_id is None:
        ctx.summary.append(_("%(n)s mejl lades i utkorgen.", n=0))
        return
    try:
        _write_mailing(ctx, mailing_id, total)
    except JobCancelled:
        # "Avbryt": those not yet written get no mail and stay as they were before the press.
        with ctx.db.transaction() as session:
            session.execute(delete(SurveyMail).where(SurveyMail.mailing_id == mailing_id))
        raise
    with ctx.db.sessions() as session:
        ctx.summary.extend(mailing_summary(session, mailing_id))


def mailing_summary(session: Session, mailing_id: int) -> list[str]:
    """What became of a written mailing's recipients, for the job's report: the mails really put in
    the outbox (by this worker or another), then those dropped since the press, and why."""
    written, closed, answered = session.execute(
        select(
            func.coalesce(func.sum(SurveyMailingBatch.written), 0),
            func.coalesce(func.sum(SurveyMailingBatch.dropped_closed), 0),
            func.coalesce(func.sum(SurveyMailingBatch.dropped_answered), 0),
        ).where(SurveyMailingBatch.mailing_id == mailing_id)
    ).one()
    lines = [_("%(n)s mejl lades i utkorgen.", n=written)]
    if closed:
        lines.append(_("%(n)s mejl skickades inte: enkäten stängdes innan de hann skrivas.", n=closed))
    if answered:
        lines.append(
            _("%(n)s påminnelser skickades inte: mottagarna svarade eller avböjde innan de hann skrivas.", n=answered)
        )
    return lines


def _write_mailing(ctx: JobContext, mailing_id: int, total: int) -> None:
    """The mailing's mails in batches; progress (first: all queued, none written) before each."""
    while True:
        with ctx.db.transaction() as session:
            left = waiting_mails(session, mailing_id)
        ctx.progress(total - left, total)
        if not left:
            return
        with ctx.db.transaction() as session:
            written = write_mails(session, ctx.config, BATCH, mailing_id)
        if not written:
            ctx.stop.wait(0.5)  # the rest is in another worker's hands


def decline(session: Session, participant: Participant) -> None:
    """No more reminders for this person (idempotent)."""
    session.execute(
        update(Participant)
        .where(Participant.id == participant.id, Participant.declined_at.is_(None))
        .values(declined_at=utcnow())
        .execution_options(synchronize_session=False)
    )
