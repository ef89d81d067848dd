"""The response-rate dashboard: participants invited, started, completed, declined and bounced (in
total and per attribute), and completions per day with the days invitations and reminders went out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import JSON, String, Text, case, cast, func, literal_column, null, or_, select, true, union, union_all
from sqlalchemy.orm import Session

from services.survey.results.anonymity import Period, periods
from shared.db import is_postgres
from shared.i18n import to_local
from shared.models import MailKind, OutboxMail, Participant, Suppression


def _count_columns() -> list:
    """Invited, started, completed, declined and bounced participants, as columns of one aggregate."""
    counted = lambda cond: func.coalesce(func.sum(case((cond, 1), else_=0)), 0)  # noqa: E731
    return [
        func.count().label("participants"),
        counted(Participant.invited_at.is_not(None)).label("invited"),
        counted(or_(Participant.started_at.is_not(None), Participant.completed_at.is_not(None))).label("started"),
        counted(Participant.completed_at.is_not(None)).label("completed"),
        counted(Participant.declined_at.is_not(None)).label("declined"),
        counted(Suppression.id.is_not(None)).label("bounced"),
    ]


_NUMBERS = ("participants", "invited", "started", "completed", "declined", "bounced")


def participant_counts_stmt(survey_id: int, postgres: bool):
    """The counts of all the survey's participants (the row whose ``key`` is NULL) and of those with
    each attribute name (``key``) and value, in one pass over the participants.

    The participants are first counted per set of attributes (few in a survey: region × role), and
    only those sets are unnested into names and values (``json_each``): a statement per attribute,
    and one more to find the names, read every participant four times or more and parsed each one's
    JSON each time. A value of JSON null comes as NULL.
    """
    attributes = cast(Participant.attributes, Text) if postgres else Participant.attributes  # json has no "="
    combos = (
        select(attributes.label("attributes"), *_count_columns())
        .select_from(Participant)
        .outerjoin(Suppression, Suppression.email == func.lower(Participant.email))
        .where(Participant.survey_id == survey_id)
        .group_by(attributes)
        .cte("combos")
    )
    sums = [func.coalesce(func.sum(combos.c[n]), 0).label(n) for n in _NUMBERS]
    if postgres:
        # json_each_text raises on anything but an object; nothing else should be there, but a row
        # written by hand must not take the page down.
        as_json = cast(combos.c.attributes, JSON)
        only_objects = case((func.json_typeof(as_json) == "object", as_json), else_=literal_column("'{}'::json"))
        pairs = func.json_each_text(only_objects).table_valued("key", "value").alias("pair")
        per_value = select(pairs.c.key, pairs.c.value, *sums).select_from(combos).join(pairs, true())
    else:  # SQLite's json_each would give an array's items, keyed by position
        pairs = func.json_each(combos.c.attributes).table_valued("key", "value").alias("pair")
        per_value = (
            select(pairs.c.key, cast(pairs.c.value, String).label("value"), *sums)
            .select_from(combos)
            .join(pairs, true())
            .where(func.json_type(combos.c.attributes) == "object")
        )
    totals = select(null().label("key"), null().label("value"), *sums).select_from(combos)
    per_value = per_value.group_by(pairs.c.key, pairs.c.value)
    return union_all(totals, per_value).order_by("key", "value")


def _hour(column, postgres: bool):
    """The UTC hour a time falls in, as text (``2025-03-03 08``).

    SQLite knows no time zones, so the database counts per UTC hour and ``_swedish_day`` adds the
    hours up into Swedish days (Swedish time is always a whole number of hours from UTC).
    """
    if postgres:
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def _hours(column, postgres: bool):
    """(the hour as text, what to group by): PostgreSQL groups by the hour as a time and formats only
    the groups, where formatting every row (100 000 invitations) took twice as long."""
    if postgres:
        hour = func.date_trunc("hour", func.timezone("UTC", column))
        return func.to_char(hour, "YYYY-MM-DD HH24"), hour
    text = _hour(column, postgres)
    return text, text


def _swedish_day(hour: str) -> date:
    return to_local(datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)).date()


def completions_per_hour_stmt(survey_id: int, postgres: bool):
    hour, group = _hours(Participant.completed_at, postgres)
    return (
        select(hour.label("hour"), func.count().label("n"))
        .where(Participant.survey_id == survey_id, Participant.completed_at.is_not(None))
        .group_by(group)
    )


def invitation_hours_stmt(survey_id: int, postgres: bool):
    hour, group = _hours(Participant.invited_at, postgres)
    return (
        select(hour.label("hour"))
        .where(Participant.survey_id == survey_id, Participant.invited_at.is_not(None))
        .group_by(group)
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
    return Counts(**{n: int(getattr(row, n)) for n in _NUMBERS}, value=row.value)


def _participant_counts(session: Session, survey_id: int, postgres: bool) -> tuple[Counts, dict[str, list[Counts]]]:
    """The totals and, per attribute name, its values' counts, last those with no value ("Uppgift
    saknas"): the totals less the values' counts, as nobody has two values of one attribute."""
    totals = Counts()
    by_attribute: dict[str, list[Counts]] = {}
    for row in session.execute(participant_counts_stmt(survey_id, postgres)):
        if row.key is None:
            totals = _counts(row)
        else:
            groups = by_attribute.setdefault(row.key, [])
            if row.value is not None:
                groups.append(_counts(row))
    for groups in by_attribute.values():
        missing = Counts(**{n: getattr(totals, n) - sum(getattr(g, n) for g in groups) for n in _NUMBERS})
        if missing.participants:
            groups.append(missing)
    return totals, by_attribute


def dashboard(session: Session, survey_id: int, today: date | None = None, k: int | None = None) -> Dashboard:
    """Who has answered: totals, the same per participant attribute, and completions per Swedish day
    (with ``k``, for an anonymous survey: per week or longer period holding no completion or at least k)."""
    postgres = is_postgres(session)
    totals, by_attribute = _participant_counts(session, survey_id, postgres)

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
