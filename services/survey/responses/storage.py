"""Storing answers: form values ⇄ answer rows (see ``shared.models.surveys.Answer``), completing a
response exactly once, and what anonymity takes away: on submit, and in the day's seal."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services.survey.responses.forms import Values, check_question, check_questions, first, is_visible, parse_number
from services.survey.surveys.questions import (
    CHOICE_TYPES,
    DONT_KNOW,
    OTHER,
    SINGLE_TYPES,
    Question,
    QuestionType,
    SurveyDefinition,
    definition_of,
    format_value,
)
from shared.api import webhooks
from shared.clock import utcnow
from shared.db import is_postgres
from shared.models import Answer, Participant, Response, ResponseStatus, Survey, SurveyStatus
from shared.models.base import UTCDateTime


class AnswerError(Exception):
    """Answers that cannot be stored; ``errors`` maps question key → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def start_of_day(moment: datetime) -> datetime:
    """Midnight UTC of the moment's day: how anonymous responses keep their times."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def answer_rows(definition: SurveyDefinition, values: Values) -> list[dict]:
    """Answer rows for every visible question with a valid answer (hidden ones are not stored)."""
    rows: list[dict] = []
    for question in definition.questions:
        if is_visible(question, values) and not check_question(question, values, require=False):
            rows.extend(_rows_for(question, values))
    return rows


def _rows_for(question: Question, values: Values) -> list[dict]:
    key, kind = question.key, question.type
    base: dict[str, str | float | None] = {
        "question_key": key,
        "row_key": None,
        "option_key": None,
        "number_value": None,
        "text_value": None,
    }
    if kind == QuestionType.INFO:
        return []
    if kind in CHOICE_TYPES:
        if kind in SINGLE_TYPES:
            chosen = [first(values, key)]
        else:
            chosen = list(dict.fromkeys(v for v in values.get(key, []) if v))
        return [
            {**base, "option_key": c, "text_value": first(values, f"{key}.{OTHER}") if c == OTHER else None}
            for c in chosen
            if c
        ]
    if kind in (QuestionType.SCALE, QuestionType.NPS, QuestionType.NUMBER):
        value = first(values, key)
        if not value:
            return []
        if value == DONT_KNOW:
            return [{**base, "option_key": DONT_KNOW}]
        return [{**base, "number_value": parse_number(value)}]
    if kind == QuestionType.RANKING:  # one row per option: its place, under the option's key
        places = ((option.key, first(values, f"{key}.{option.key}")) for option in question.options)
        return [{**base, "row_key": option, "number_value": float(place)} for option, place in places if place]
    if kind == QuestionType.MATRIX:
        out = []
        for row in question.rows:
            value = first(values, f"{key}.{row.key}")
            if value == DONT_KNOW:
                out.append({**base, "row_key": row.key, "option_key": DONT_KNOW})
            elif value:
                out.append({**base, "row_key": row.key, "number_value": float(value)})
        return out
    text = first(values, key)
    return [{**base, "text_value": text}] if text else []


ANSWERS = cast(Table, Answer.__table__)
RESPONSES = cast(Table, Response.__table__)
PARTICIPANTS = cast(Table, Participant.__table__)
ANSWER_COLUMNS = (Answer.question_key, Answer.row_key, Answer.option_key, Answer.number_value, Answer.text_value)
ANSWER_ORDER = (Answer.question_key, Answer.row_key, Answer.option_key)


# Built once: a resumed page view runs it.
STORED_ANSWERS = select(*ANSWER_COLUMNS).where(Answer.response_id == bindparam("response_id")).order_by(*ANSWER_ORDER)


def stored_values(session: Session, response_id: str) -> Values:
    """The form values a response's stored answers stand for (to fill in the form again)."""
    return values_of(session.execute(STORED_ANSWERS, {"response_id": response_id}))


class Progress(NamedTuple):
    """A response in progress: its id, the page it stands at, when it began and its values."""

    response_id: str
    page: int
    started_at: datetime
    values: Values


# Built once: every page a respondent saves runs it.
IN_PROGRESS = (
    select(Response.id, Response.current_page, Response.started_at, *ANSWER_COLUMNS)
    .outerjoin(Answer, Answer.response_id == Response.id)
    .where(Response.participant_id == bindparam("participant_id"), Response.status == ResponseStatus.IN_PROGRESS)
    .order_by(*ANSWER_ORDER)
)


def in_progress_values(session: Session, participant_id: int) -> Progress | None:
    """A participant's response in progress, in one query; None when they have not begun."""
    rows = session.execute(IN_PROGRESS, {"participant_id": participant_id}).all()
    if not rows:
        return None
    return Progress(
        rows[0].id,
        rows[0].current_page,
        rows[0].started_at,
        values_of(row for row in rows if row.question_key is not None),
    )


def values_of(answers: Iterable[Any]) -> Values:
    """Form values from answer rows (question_key, row_key, option_key, number_value, text_value)."""
    values: Values = {}
    for a in answers:
        name = f"{a.question_key}.{a.row_key}" if a.row_key else a.question_key
        if a.option_key is not None:
            values.setdefault(name, []).append(a.option_key)
            if a.option_key == OTHER and a.text_value:
                values[f"{a.question_key}.{OTHER}"] = [a.text_value]
        elif a.number_value is not None:
            values.setdefault(name, []).append(format_value(a.number_value))
        elif a.text_value is not None:
            values.setdefault(name, []).append(a.text_value)
    return values


# Built once and on the table: every saved page runs it (the ORM's bulk DELETE cost more than the statement).
DELETE_ANSWERS = delete(ANSWERS).where(ANSWERS.c.response_id == bindparam("response_id"))


def write_answers(session: Session, response_id: str, definition: SurveyDefinition, values: Values) -> None:
    """Replace a response's answer rows with those the values stand for."""
    session.execute(DELETE_ANSWERS, {"response_id": response_id})
    rows = answer_rows(definition, values)
    if rows:
        # Core's insert: one statement for every row (the ORM's splits them by which values are set).
        session.execute(insert(ANSWERS), [{**row, "response_id": response_id} for row in rows])


# Built once: every page a respondent saves runs it, and building it cost more than running it.
# On the table, not the class: the ORM's bulk UPDATE machinery cost more than the statement.
LOCK_PARTICIPANT = (
    update(PARTICIPANTS)
    .where(PARTICIPANTS.c.id == bindparam("participant_id"), PARTICIPANTS.c.completed_at.is_(None))
    .values(started_at=func.coalesce(PARTICIPANTS.c.started_at, bindparam("started")))
)


def lock_participant(session: Session, participant_id: int, now: datetime, anonymous: bool) -> bool:
    """Take the participant's row lock; False when they have already completed."""
    started = start_of_day(now) if anonymous else now
    # An UPDATE without RETURNING gives a CursorResult; Session.execute is typed for any statement.
    result = cast(
        CursorResult[Any], session.execute(LOCK_PARTICIPANT, {"participant_id": participant_id, "started": started})
    )
    return result.rowcount == 1


# Built once, on the tables: a submit runs them, and the ORM's unit of work and bulk statements cost
# more than the statements (a submit went through 2,000 calls of SQLAlchemy before).
COMPLETE_NAMED = (
    update(RESPONSES)
    .where(RESPONSES.c.id == bindparam("response_id"), RESPONSES.c.status == ResponseStatus.IN_PROGRESS)
    .values(
        status=ResponseStatus.COMPLETE,
        completed_at=bindparam("now"),
        updated_at=bindparam("now"),
        attributes=bindparam("attributes"),
    )
)
# An anonymous response in progress is deleted rather than completed (a fresh row takes its place);
# the row count decides the winner all the same. Its answers go with it (ON DELETE CASCADE).
DELETE_IN_PROGRESS = delete(RESPONSES).where(
    RESPONSES.c.id == bindparam("response_id"), RESPONSES.c.status == ResponseStatus.IN_PROGRESS
)
INSERT_RESPONSE = insert(RESPONSES)
INSERT_ANSWERS = insert(ANSWERS)


def begin_response(session: Session, survey_id: int, participant_id: int | None, page: int, now: datetime) -> str:
    """A new response in progress standing at ``page``; returns its id."""
    response_id = uuid.uuid4().hex
    session.execute(
        INSERT_RESPONSE,
        {
            "id": response_id,
            "survey_id": survey_id,
            "participant_id": participant_id,
            "status": ResponseStatus.IN_PROGRESS,
            "current_page": page,
            "started_at": now,
            "updated_at": now,
            "attributes": {},
        },
    )
    return response_id


def complete(
    session: Session,
    survey: Survey,
    response_id: str,
    started_at: datetime,
    participant: Participant | None,
    values: Values,
    now: datetime,
    attributes: dict | None = None,
) -> str | None:
    """Mark the response in progress (``response_id``, begun at ``started_at``) complete exactly once
    (None when another request already did); in an anonymous survey it is re-created unlinkable.
    Returns the id of the complete response."""
    kept = _report_attributes(survey, participant.attributes if participant is not None else (attributes or {}))
    definition = definition_of(survey)
    if not survey.anonymous:
        params = {"response_id": response_id, "now": now, "attributes": kept}
        if cast(CursorResult[Any], session.execute(COMPLETE_NAMED, params)).rowcount != 1:
            return None
        write_answers(session, response_id, definition, values)
        if participant is not None:
            _completed(session, participant, now, participant.started_at)
        webhooks.emit_response_count(session, survey.id, anonymous=survey.anonymous)
        return response_id
    # A fresh row with a fresh random id and fresh answer ids: nothing seen while the response was
    # in progress (its id, its row order, its exact times) can be matched to it afterwards. What this
    # transaction itself leaves (its stamp, the rows' place) the day's seal takes away: see below.
    if cast(CursorResult[Any], session.execute(DELETE_IN_PROGRESS, {"response_id": response_id})).rowcount != 1:
        return None
    day = start_of_day(now)
    new_id = uuid.uuid4().hex
    session.execute(
        INSERT_RESPONSE,
        {
            "id": new_id,
            "survey_id": survey.id,
            "participant_id": None,
            "status": ResponseStatus.COMPLETE,
            "current_page": 0,
            "started_at": start_of_day(started_at),
            "updated_at": day,
            "completed_at": day,
            "attributes": kept,
            "awaiting_seal": True,
        },
    )
    rows = answer_rows(definition, values)
    if rows:  # a fresh id has no answers to replace
        session.execute(INSERT_ANSWERS, [{**row, "response_id": new_id} for row in rows])
    if participant is not None:
        started = participant.started_at
        _completed(session, participant, day, start_of_day(started) if started is not None else None)
    webhooks.emit_response_count(session, survey.id, anonymous=survey.anonymous)
    return new_id


def _completed(session: Session, participant: Participant, completed_at: datetime, started_at: datetime | None) -> None:
    """Record the participant's completion with a plain statement, and in the loaded object as stored
    (the ORM's flush of the changed object cost more than the statement)."""
    changes: dict[str, datetime] = {"completed_at": completed_at}
    if started_at is not None:
        changes["started_at"] = started_at
    session.execute(update(PARTICIPANTS).where(PARTICIPANTS.c.id == participant.id).values(**changes))
    for name, value in changes.items():
        set_committed_value(participant, name, value)


# The seal. A submit writes its anonymous response and its participant's completion in one
# transaction, so until the day is sealed PostgreSQL's transaction stamp (``xmin``) pairs the two and
# the rows' place in the table (``ctid``) follows the order of submits. That window is acceptable:
# while answering, the answers in progress are linked to the participant anyway (that is what lets
# them save and resume), so the stored rows only lose the link once a day. The seal, once a day for
# every earlier day (the worker) and at once when a survey closes, rewrites in one transaction every
# complete response of each such day and its answers as new rows in random order with new random
# ids, and rewrites every participant who completed that day. Afterwards they all share the seal's
# stamp and a response could be anyone's who completed that day, which is all the day-granular times
# already allow: the guarantee of rewriting every completer on each submit, at a fixed cost per
# submit and work in proportion to a day once a day. A day sealed before is rewritten whole again
# when a late submit (one that began before midnight, or after a survey was reopened) joins it, so a
# re-run is harmless and nothing is left half done.
SEALING = Table(
    "sealing_responses",
    MetaData(),
    Column("old_id", String(32)),
    Column("new_id", String(32)),
    Column("survey_id", Integer),
    Column("day", UTCDateTime),
    prefixes=["TEMPORARY"],
)


@dataclass
class Sealed:
    """What one seal rewrote: how many (survey, day) pairs and how many responses."""

    days: int
    responses: int


def seal_past_days(session: Session, now: datetime) -> Sealed:
    """Seal every anonymous response of a day before ``now``'s (UTC) day, and every one of a closed
    survey; what the worker runs."""
    return _seal(session, or_(Response.completed_at < start_of_day(now), Survey.status == SurveyStatus.CLOSED))


def seal_survey(session: Session, survey_id: int) -> Sealed:
    """Seal every anonymous response of one survey, today's too: when it closes."""
    return _seal(session, Survey.id == survey_id)


def _seal(session: Session, due: ColumnElement[bool]) -> Sealed:
    awaiting = (
        select(Response.survey_id, Response.completed_at)
        .join(Survey, Survey.id == Response.survey_id)
        .where(Response.awaiting_seal, due)
        .distinct()
    )
    # Another worker sealing the same surveys would write each response twice: each takes its own.
    locked = session.scalars(
        select(Survey.id)
        .where(Survey.id.in_(awaiting.with_only_columns(Response.survey_id)))
        .order_by(Survey.id)
        .with_for_update(skip_locked=True)
    ).all()
    if not locked:
        return Sealed(days=0, responses=0)
    days = awaiting.where(Response.survey_id.in_(locked)).subquery()
    postgres = is_postgres(session)
    connection = session.connection()
    # checkfirst: SQLite's driver runs DDL outside any transaction not yet begun, so a seal that
    # failed there leaves the (empty) table behind on its connection.
    SEALING.create(connection, checkfirst=True)
    session.execute(
        insert(SEALING).from_select(
            ["old_id", "new_id", "survey_id", "day"],
            select(Response.id, _random_response_id(postgres), Response.survey_id, Response.completed_at)
            .join(days, and_(days.c.survey_id == Response.survey_id, days.c.completed_at == Response.completed_at))
            .where(Response.status == ResponseStatus.COMPLETE),
        )
    )
    if postgres:  # without statistics a new table is guessed small or large; a day's answers are read by index
        session.execute(text(f"ANALYZE {SEALING.name}"))
    copied = (
        Response.survey_id,
        Response.status,
        Response.current_page,
        Response.started_at,
        Response.updated_at,
        Response.completed_at,
        Response.attributes,
    )
    session.execute(
        insert(RESPONSES).from_select(
            ["id", *(c.key for c in copied), "awaiting_seal"],
            select(SEALING.c.new_id, *copied, false())
            .join(Response, Response.id == SEALING.c.old_id)
            .order_by(func.random()),
        )
    )
    session.execute(
        insert(ANSWERS).from_select(
            ["id", "response_id", *(c.key for c in ANSWER_COLUMNS)],
            select(_random_answer_id(postgres), SEALING.c.new_id, *ANSWER_COLUMNS)
            .join(SEALING, SEALING.c.old_id == Answer.response_id)
            .order_by(func.random()),
        )
    )
    old = select(SEALING.c.old_id)
    session.execute(delete(Answer).where(Answer.response_id.in_(old)).execution_options(synchronize_session=False))
    session.execute(delete(Response).where(Response.id.in_(old)).execution_options(synchronize_session=False))
    sealed_days = select(SEALING.c.survey_id, SEALING.c.day).distinct()
    session.execute(
        update(Participant)
        .where(tuple_(Participant.survey_id, Participant.completed_at).in_(sealed_days))
        .values(completed_at=Participant.completed_at)
        .execution_options(synchronize_session=False)
    )
    sealed = Sealed(
        days=len(session.execute(sealed_days).all()),
        responses=session.scalar(select(func.count()).select_from(SEALING)) or 0,
    )
    SEALING.drop(connection)
    return sealed


ANSWER_ID_LIMIT = 2**63 - 1


def _random_response_id(postgres: bool) -> ColumnElement[str]:
    """32 random hex digits, as ``uuid.uuid4().hex`` gives a submit."""
    if postgres:
        return func.replace(func.gen_random_uuid().cast(Text), "-", "")
    return func.lower(func.hex(func.randomblob(16)))


def _random_answer_id(postgres: bool) -> ColumnElement[int]:
    """A random positive 63-bit id, as ``shared.models.surveys.random_answer_id`` gives a submit."""
    if postgres:
        return func.floor(func.random() * ANSWER_ID_LIMIT).cast(BigInteger)
    return func.abs(func.random() % ANSWER_ID_LIMIT)


def _report_attributes(survey: Survey, attributes: dict) -> dict:
    return {name: attributes.get(name) for name in survey.report_attributes or [] if attributes.get(name) is not None}


def store_complete_response(
    session: Session,
    survey: Survey,
    values: dict[str, str | list[str]],
    participant: Participant | None = None,
    attributes: dict | None = None,
    now: datetime | None = None,
) -> str:
    """Store one complete response from form values (as the browser would send them); returns its id.

    Checks every page like a submit does (raises AnswerError). ``attributes`` are used when there is no
    participant (e.g. test data); only the survey's report_attributes are kept. Does not commit.
    """
    now = now or utcnow()
    normalised: Values = {
        k: [format_value(x) for x in v] if isinstance(v, (list, tuple)) else [format_value(v)]
        for k, v in values.items()
    }
    errors = check_questions(definition_of(survey).questions, normalised, require=True)
    if errors:
        raise AnswerError(errors)
    if participant is not None:
        if not lock_participant(session, participant.id, now, survey.anonymous):
            raise AnswerError({"": _("Deltagaren har redan svarat.")})
        session.refresh(participant)
        session.execute(delete(Response).where(Response.participant_id == participant.id))
    response_id = begin_response(session, survey.id, participant.id if participant is not None else None, 0, now)
    completed_id = complete(session, survey, response_id, now, participant, normalised, now, attributes)
    if completed_id is None:  # only another request completes a response, and none can see this one yet
        raise RuntimeError(f"response {response_id}, made above, was already complete")
    return completed_id


def readable_answers(session: Session, survey: Survey, participant_id: int) -> list[tuple[str, list[str]]]:
    """A named survey's answers of one person as (question, answer lines); empty for anonymous surveys."""
    if survey.anonymous:
        return []
    response_id = session.scalar(select(Response.id).where(Response.participant_id == participant_id))
    if response_id is None:
        return []
    values = stored_values(session, response_id)
    dont_know = _("Vet inte")
    out = []
    for q in definition_of(survey).questions:
        key, lines = q.key, []
        if q.type in CHOICE_TYPES:
            for chosen in values.get(key, []):
                other = f"{_('Annat')}: {first(values, f'{key}.{OTHER}')}"
                lines.append(other if chosen == OTHER else q.option_label(chosen))
        elif q.type == QuestionType.RANKING:
            places = sorted((first(values, f"{key}.{o.key}"), o.label) for o in q.options)
            lines += [f"{place}. {label}" for place, label in places if place]
        elif q.type == QuestionType.MATRIX:
            for row in q.rows:
                value = first(values, f"{key}.{row.key}")
                if value:
                    lines.append(f"{row.label}: {dont_know if value == DONT_KNOW else value}")
        else:
            value = first(values, key)
            if value:
                lines.append(dont_know if value == DONT_KNOW else value)
        if lines:
            out.append((q.text, lines))
    return out
