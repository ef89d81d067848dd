"""What happens to surveys by the clock, run by the worker: a survey closes itself at its closing
time, and automatic reminders go out on their days, at their time of day, on weekdays if so set."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from services.survey.mailings.domain import check_sendable, fan_out
from services.survey.surveys.domain import SurveyStateError
from shared.clock import utcnow
from shared.i18n import LOCAL_ZONE, to_local
from shared.models import MailKind, Participant, Survey, SurveyStatus

MAX_REMINDER_DAYS = 5  # reminders per person that can be scheduled
SATURDAY = 5


def close_due_surveys(session: Session, now: datetime) -> int:
    """Close every open survey whose closing time has come (one UPDATE); returns how many."""
    result = session.execute(
        update(Survey)
        .where(Survey.status == SurveyStatus.OPEN, Survey.closes_at.is_not(None), Survey.closes_at <= now)
        .values(status=SurveyStatus.CLOSED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def reminder_time(survey: Survey) -> time:
    hours, _sep, minutes = survey.reminder_time.partition(":")
    return time(int(hours), int(minutes))


def _sending_hours(survey: Survey, now: datetime) -> bool:
    """Whether automatic reminders may go now: past the time of day, and on a weekday if so set."""
    local = to_local(now)
    if survey.reminder_weekdays_only and local.weekday() >= SATURDAY:
        return False
    return local.time() >= reminder_time(survey)


def send_automatic_reminders(session: Session, now: datetime) -> int:
    """Due automatic reminders fanned out for each survey that has them (open, not paused, within its
    sending hours); returns how many were queued (the worker writes the mails, ``write_mails``)."""
    surveys = session.scalars(
        select(Survey).where(Survey.status == SurveyStatus.OPEN, Survey.reminders_paused.is_(False))
    ).all()
    sent = 0
    for survey in surveys:
        if not survey.reminder_days or not _sending_hours(survey, now):
            continue
        try:
            check_sendable(survey)
        except SurveyStateError:
            continue  # the survey page says what is wrong; nothing goes out until it is fixed
        mailing = fan_out(session, survey, MailKind.SURVEY_REMINDER, now, automatic=True)
        sent += mailing.recipients if mailing else 0
    return sent


def next_automatic_reminder(session: Session, survey: Survey, now: datetime | None = None) -> datetime | None:
    """When the next automatic reminder goes out (Swedish time), or None when none is scheduled."""
    if not survey.reminder_days or survey.reminders_paused or survey.status != SurveyStatus.OPEN:
        return None
    now = now or utcnow()
    first_invited = session.execute(
        select(Participant.reminders_sent, func.min(Participant.invited_at))
        .where(
            and_(
                Participant.survey_id == survey.id,
                Participant.invited_at.is_not(None),
                Participant.completed_at.is_(None),
                Participant.declined_at.is_(None),
                Participant.reminders_sent < len(survey.reminder_days),
            )
        )
        .group_by(Participant.reminders_sent)
    ).all()
    if not first_invited:
        return None
    local_now = to_local(now)
    day = max(
        min(
            to_local(invited).date() + timedelta(days=survey.reminder_days[sent])
            for sent, invited in first_invited
            if invited is not None
        ),
        local_now.date(),
    )
    moment = datetime.combine(day, reminder_time(survey), tzinfo=LOCAL_ZONE)
    if moment < local_now:  # due today and the time has passed: at the worker's next round
        moment = local_now
    while survey.reminder_weekdays_only and moment.weekday() >= SATURDAY:
        moment = datetime.combine(moment.date() + timedelta(days=1), reminder_time(survey), tzinfo=LOCAL_ZONE)
    return moment


def run_schedule(session: Session, now: datetime | None = None) -> int:
    """The worker's round: close what is due, then send due automatic reminders; returns work done."""
    now = now or utcnow()
    return close_due_surveys(session, now) + send_automatic_reminders(session, now)
