"""The response-rate dashboard: participants invited, started, completed, declined and bounced (in
total and per attribute), and completions per day with the days invitations and reminders went out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, or_, select, text, union
from sqlalchemy.orm import Session

from services.survey.results.anonymity import Period, periods
from services.survey.results.scope import attribute_of
from shared.db import is_postgres
from shared.i18n import to_local
from shared.models import MailKind, OutboxMail, Participant, Suppression


def participant_counts_stmt(survey_id: int, group=None):
    """Invited, started, completed, declined and bounced participants (per group when given)."""
    counted = lambda cond: func.coalesce(func.sum(case((cond, 1), else_=0)), 0)  # noqa: E731
    columns = [
        func.count().label("participants"),
        counted(Participant.invited_at.is_not(None)).label("invited"),
        counted(or_(Participant.started_at.is_not(None), Participant.completed_at.is_not(None))).label("started"),
        counted(Participant.completed_at.is_not(None)).label("completed"),
        counted(Participant.declined_at.is_not(None)).label("declined"),
        counted(Suppression.id.is_not(None)).label("bounced"),
    ]
    stmt = (
        select(*([group.label("value")] if group is not None else []), *columns)
        .select_from(Participant)
        .outerjoin(Suppression, Suppression.email == func.lower(Participant.email))
        .where(Participant.survey_id == survey_id)
    )
    return stmt.group_by(group).order_by(group) if group is not None else stmt


def participant_attribute_keys_stmt(postgres: bool):
    # Only JSON objects have keys (json_object_keys raises on anything else).
    if postgres:
        return text(
            "SELECT DISTINCT json_object_keys(attributes) AS key FROM participants "
            "WHERE survey_id = :survey_id AND json_typeof(attributes) = 'object' ORDER BY 1"
        )
    return text(
        "SELECT DISTINCT j.key AS key FROM participants, json_each(participants.attributes) AS j "
        "WHERE participants.survey_id = :survey_id AND json_type(participants.attributes) = 'object' ORDER BY 1"
    )


def _hour(column, postgres: bool):
    """The UTC hour a time falls in, as text (``2025-03-03 08``).

    SQLite knows no time zones, so the database counts per UTC hour and ``_swedish_day`` adds the
    hours up into Swedish days (Swedish time is always a whole number of hours from UTC).
    """
    if postgres:
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def _swedish_day(hour: str) -> date:
    return to_local(datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)).date()


def completions_per_hour_stmt(survey_id: int, postgres: bool):
    hour = _hour(Participant.completed_at, postgres)
    return (
        select(hour.label("hour"), func.count().label("n"))
        .where(Participant.survey_id == survey_id, Participant.completed_at.is_not(None))
        .group_by(hour)
    )


def invitation_hours_stmt(survey_id: int, postgres: bool):
    hour = _hour(Participant.invited_at, postgres)
    return (
        select(hour.label("hour"))
        .where(Participant.survey_id == survey_id, Participant.invited_at.is_not(None))
        .group_by(hour)
    )


def reminder_hours_stmt(survey_id: int, postgres: bool):
    """Hours reminders went out: from the outbox (every round) and the participants' last reminder.

    The outbox does not record the survey, so its reminders are matched by the participants'
    addresses and counted only from this survey's first invitation on.
    """
    first_invitation = (
        select(func.min(Participant.invited_at)).where(Participant.survey_id == survey_id).scalar_subquery()
    )
    from_outbox = select(_hour(OutboxMail.created_at, postgres).label("hour")).where(
        OutboxMail.kind == MailKind.SURVEY_REMINDER,
        OutboxMail.created_at >= first_invitation,
        func.lower(OutboxMail.recipient).in_(
            select(func.lower(Participant.email)).where(Participant.survey_id == survey_id)
        ),
    )
    from_participants = select(_hour(Participant.last_reminded_at, postgres).label("hour")).where(
        Participant.survey_id == survey_id, Participant.last_reminded_at.is_not(None)
    )
    return union(from_outbox, from_participants)


@dataclass
class Counts:
    participants: int = 0
    invited: int = 0
    started: int = 0
    completed: int = 0
    declined: int = 0
    bounced: int = 0
    value: str | None = None

    @property
    def response_rate(self) -> float | None:
        """Completed as a percentage of those invited."""
        return 100.0 * self.completed / self.invited if self.invited else None


@dataclass
class Day:
    """A day, or in an anonymous survey a period of days (``day`` to ``end``) with no completion or at least k."""

    day: date
    completed: int
    invitation: bool
    reminder: bool
    end: date | None = None

    @property
    def axis_label(self) -> str:
        """``03-10`` for a day, ``10/3–16/3`` for a period."""
        if self.end is None:
            return self.day.isoformat()[5:]
        return Period(self.day, self.end, self.completed).short_label


@dataclass
class Dashboard:
    totals: Counts
    by_attribute: dict[str, list[Counts]]
    days: list[Day]
    days_withheld: bool = False  # anonymous, fewer than k completions: no date could be shown


def _counts(row) -> Counts:
    """A row of ``participant_counts_stmt``: counts (never NULL) and, per group, the group's value."""
    data = row._asdict()
    value = data.pop("value", None)
    return Counts(**{k: int(v) for k, v in data.items()}, value=value)


def dashboard(session: Session, survey_id: int, today: date | None = None, k: int | None = None) -> Dashboard:
    """Who has answered: totals, the same per participant attribute, and completions per Swedish day
    (with ``k``, for an anonymous survey: per week or longer period holding no completion or at least k)."""
    postgres = is_postgres(session)
    totals = _counts(session.execute(participant_counts_stmt(survey_id)).one())
    by_attribute = {}
    for key in session.scalars(participant_attribute_keys_stmt(postgres), {"survey_id": survey_id}):
        group = attribute_of(Participant.attributes, key)
        by_attribute[key] = [_counts(r) for r in session.execute(participant_counts_stmt(survey_id, group))]

    completed: dict[date, int] = {}
    for r in session.execute(completions_per_hour_stmt(survey_id, postgres)):
        day = _swedish_day(r.hour)
        completed[day] = completed.get(day, 0) + int(r.n)
    invitations = {_swedish_day(h) for h in session.scalars(invitation_hours_stmt(survey_id, postgres))}
    reminders = {_swedish_day(h) for h in session.scalars(reminder_hours_stmt(survey_id, postgres))}
    marked = completed.keys() | invitations | reminders
    days = []
    if marked:
        # One bar per calendar day, including quiet days, so the chart's time axis is honest.
        start = min(invitations) if invitations else min(marked)
        end = max(marked)
        if today is not None and end < today <= end + timedelta(days=31):
            end = today  # a survey still collecting: show the quiet days up to today
        end = min(end, start + timedelta(days=366))
        if k is not None:
            if sum(completed.values()) < k:
                return Dashboard(totals=totals, by_attribute=by_attribute, days=[], days_withheld=True)
            for p in periods(completed, k, start, end):
                invitation = any(p.start <= d <= p.end for d in invitations)
                reminder = any(p.start <= d <= p.end for d in reminders)
                days.append(Day(p.start, p.completed, invitation, reminder, end=p.end))
            return Dashboard(totals=totals, by_attribute=by_attribute, days=days)
        current = start
        while current <= end:
            days.append(Day(current, completed.get(current, 0), current in invitations, current in reminders))
            current += timedelta(days=1)
    return Dashboard(totals=totals, by_attribute=by_attribute, days=days)
