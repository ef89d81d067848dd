"""Answering: reading a page of the form, checking it, storing answers, resuming and submitting.

Form values travel as ``dict[str, list[str]]`` (what ``request.form.to_dict(flat=False)`` gives),
keyed by the form contract: question key, ``KEY.ROWKEY`` for matrix rows, ``KEY.other`` for the
other-text. Answers are stored as rows (see ``shared.models.surveys.Answer``).

Every write for a link starts by locking the participant row with a conditional UPDATE
(``… WHERE completed_at IS NULL``), so two tabs or a double click are serialised, and submitting
is a conditional ``UPDATE responses … WHERE status='in_progress'`` whose row count decides the winner.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from services.survey.surveys.definitions import CHOICE_TYPES, allowed_values, format_value
from shared.clock import utcnow
from shared.db import is_postgres
from shared.models import Answer, Participant, Response, Survey

Values = dict[str, list[str]]
MAX_TEXT = 10_000


class AnswerError(Exception):
    """Answers that cannot be stored; ``errors`` maps question key → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def start_of_day(moment: datetime) -> datetime:
    """Midnight UTC of the moment's day: how anonymous responses keep their times."""
    return moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


# --- reading and checking a page -------------------------------------------------------------


def first(values: Values, name: str) -> str:
    items = values.get(name) or [""]
    return (items[0] or "").strip()


def is_visible(question: dict, values: Values) -> bool:
    """``show_if`` on the answers given so far (a hidden question is neither required nor stored)."""
    rule = question.get("show_if")
    if not rule:
        return True
    given = {format_value(v).strip() for v in values.get(rule["question"], []) if v}
    return bool(given & set(rule["in"]))


def page_fields(question: dict) -> list[str]:
    """The form names one question owns."""
    key = question["key"]
    if question["type"] == "matrix":
        return [f"{key}.{row['key']}" for row in question["rows"]]
    if question["type"] in CHOICE_TYPES and question.get("other"):
        return [key, f"{key}.other"]
    return [key]


def pick(questions: list[dict], form) -> Values:
    """Only this page's inputs from a submitted form (anything else is ignored)."""
    getlist = form.getlist if hasattr(form, "getlist") else (lambda n: list(form.get(n, [])))
    picked: Values = {}
    for question in questions:
        for name in page_fields(question):
            items = [v for v in getlist(name) if isinstance(v, str)]
            if items:
                picked[name] = items
    return picked


def parse_number(text: str) -> float | None:
    try:
        number = float(text.replace(",", ".").replace("\u2212", "-").replace(" ", ""))
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def check_question(question: dict, values: Values, require: bool) -> str | None:
    """The error message for one question, or None when its answer may be stored."""
    key, kind = question["key"], question["type"]
    allowed = allowed_values(question)
    missing = require and question.get("required")
    if kind == "single":
        value = first(values, key)
        if not value:
            return _("Välj ett av alternativen.") if missing else None
        if value not in allowed:
            return _("Välj ett av alternativen i listan.")
        if value == "other" and not first(values, f"{key}.other"):
            return _("Skriv vad du menar med ”Annat”.")
        if len(first(values, f"{key}.other")) > 500:
            return _("Texten för ”Annat” får vara högst 500 tecken.")
    elif kind == "multiple":
        chosen = [v for v in values.get(key, []) if v]
        if not chosen:
            return _("Välj minst ett alternativ.") if missing else None
        if any(v not in allowed for v in chosen):
            return _("Välj bland alternativen i listan.")
        if "other" in chosen and not first(values, f"{key}.other"):
            return _("Skriv vad du menar med ”Annat”.")
    elif kind in ("scale", "nps"):
        value = first(values, key)
        if not value:
            return _("Välj ett värde.") if missing else None
        if value not in allowed:
            return _("Välj ett av värdena %(low)s–%(high)s.", low=question["min"], high=question["max"])
    elif kind == "matrix":
        scale = question["scale"]
        options = {str(v) for v in range(scale["min"], scale["max"] + 1)}
        if question.get("dont_know"):
            options.add("dont_know")
        unanswered = []
        for row in question["rows"]:
            value = first(values, f"{key}.{row['key']}")
            if not value:
                unanswered.append(row["label"])
            elif value not in options:
                return _("Välj ett av värdena för ”%(row)s”.", row=row["label"])
        if missing and unanswered:
            return _("Svara på alla påståenden. Saknas: %(rows)s.", rows="; ".join(unanswered))
    elif kind == "number":
        text = first(values, key)
        if not text:
            return _("Fyll i ett tal.") if missing else None
        number = parse_number(text)
        low, high = question.get("min"), question.get("max")
        if number is None:
            return _("Fyll i ett tal, till exempel 3.")
        if (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                return _("Fyll i ett tal mellan %(low)s och %(high)s.", low=format_value(low), high=format_value(high))
            if low is not None:
                return _("Fyll i ett tal som är minst %(low)s.", low=format_value(low))
            return _("Fyll i ett tal som är högst %(high)s.", high=format_value(high))
    else:
        text = first(values, key)
        limit = question.get("max_length") or MAX_TEXT
        if not text:
            return _("Fyll i ett svar.") if missing else None
        if len(text) > limit:
            return _("Svaret får vara högst %(n)s tecken (nu %(m)s).", n=limit, m=len(text))
    return None


def check_questions(questions: list[dict], values: Values, require: bool) -> dict[str, str]:
    """Errors by question key for the visible questions among ``questions``."""
    errors = {}
    for question in questions:
        if is_visible(question, values):
            message = check_question(question, values, require)
            if message:
                errors[question["key"]] = message
    return errors


# --- values ⇄ answer rows -------------------------------------------------------------------


def answer_rows(definition: dict, values: Values) -> list[dict]:
    """Answer rows for every visible question with a valid answer (hidden ones are not stored)."""
    rows: list[dict] = []
    for page in definition["pages"]:
        for question in page["questions"]:
            if not is_visible(question, values) or check_question(question, values, require=False):
                continue
            rows.extend(_rows_for(question, values))
    return rows


def _rows_for(question: dict, values: Values) -> list[dict]:
    key, kind = question["key"], question["type"]
    base = {"question_key": key, "row_key": None, "option_key": None, "number_value": None, "text_value": None}
    if kind in CHOICE_TYPES:
        chosen = [first(values, key)] if kind == "single" else list(dict.fromkeys(v for v in values.get(key, []) if v))
        return [
            {**base, "option_key": c, "text_value": first(values, f"{key}.other") if c == "other" else None}
            for c in chosen
            if c
        ]
    if kind in ("scale", "nps", "number"):
        value = first(values, key)
        if not value:
            return []
        if value == "dont_know":
            return [{**base, "option_key": "dont_know"}]
        return [{**base, "number_value": parse_number(value)}]
    if kind == "matrix":
        out = []
        for row in question["rows"]:
            value = first(values, f"{key}.{row['key']}")
            if value == "dont_know":
                out.append({**base, "row_key": row["key"], "option_key": "dont_know"})
            elif value:
                out.append({**base, "row_key": row["key"], "number_value": float(value)})
        return out
    text = first(values, key)
    return [{**base, "text_value": text}] if text else []


def stored_values(session: Session, response_id: str) -> Values:
    """The form values a response's stored answers stand for (to fill in the form again)."""
    values: Values = {}
    for a in session.execute(
        select(Answer.question_key, Answer.row_key, Answer.option_key, Answer.number_value, Answer.text_value)
        .where(Answer.response_id == response_id)
        .order_by(Answer.id)
    ):
        name = f"{a.question_key}.{a.row_key}" if a.row_key else a.question_key
        if a.option_key is not None:
            values.setdefault(name, []).append(a.option_key)
            if a.option_key == "other" and a.text_value:
                values[f"{a.question_key}.other"] = [a.text_value]
        elif a.number_value is not None:
            values.setdefault(name, []).append(format_value(a.number_value))
        elif a.text_value is not None:
            values.setdefault(name, []).append(a.text_value)
    return values


def _write_answers(session: Session, response_id: str, definition: dict, values: Values) -> None:
    session.execute(delete(Answer).where(Answer.response_id == response_id))
    rows = answer_rows(definition, values)
    if rows:
        session.execute(Answer.__table__.insert(), [{**row, "response_id": response_id} for row in rows])


# --- availability ---------------------------------------------------------------------------


def availability(survey: Survey, now: datetime | None = None) -> str:
    """``open``, ``not_open`` (draft or before opens) or ``closed`` (closed or after closes)."""
    now = now or utcnow()
    if survey.status == "closed" or (survey.closes_at is not None and now >= survey.closes_at):
        return "closed"
    if survey.status != "open" or (survey.opens_at is not None and now < survey.opens_at):
        return "not_open"
    return "open"


def find_participant(session: Session, token: str) -> Participant | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Participant).where(Participant.token == token))


def in_progress_response(session: Session, participant_id: int) -> Response | None:
    return session.scalar(
        select(Response).where(Response.participant_id == participant_id, Response.status == "in_progress")
    )


@dataclass
class PageView:
    """What the respondent's page shows: which page, the values to fill in, and any errors."""

    page: int
    values: Values = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    outcome: str = "page"  # page | saved | submitted | completed | closed | not_open


def open_link(session: Session, participant: Participant) -> PageView:
    """GET of the personal link: where the person left off (changes nothing)."""
    survey = participant.survey
    if participant.completed_at is not None:
        return PageView(page=0, outcome="completed")
    state = availability(survey)
    if state != "open":
        return PageView(page=0, outcome=state)
    response = in_progress_response(session, participant.id)
    if response is None:
        return PageView(page=0)
    page = min(max(response.current_page, 0), len(survey.definition["pages"]) - 1)
    return PageView(page=page, values=stored_values(session, response.id))


def _lock_participant(session: Session, participant_id: int, now: datetime, anonymous: bool) -> bool:
    """Take the participant's row lock; False when they have already completed."""
    started = start_of_day(now) if anonymous else now
    result = session.execute(
        update(Participant)
        .where(Participant.id == participant_id, Participant.completed_at.is_(None))
        .values(started_at=func.coalesce(Participant.started_at, started))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def next_visible_page(definition: dict, values: Values, page: int, step: int) -> int:
    """The next page in ``step`` direction that has a visible question (pages may be all hidden)."""
    pages = definition["pages"]
    candidate = page + step
    while 0 <= candidate < len(pages):
        if any(is_visible(q, values) for q in pages[candidate]["questions"]):
            return candidate
        candidate += step
    return min(max(candidate, 0), len(pages) - 1) if step < 0 else page


def save_page(session: Session, participant_id: int, page: int, form, action: str) -> PageView:
    """POST of a page: store its answers and move on (``back``/``next``/``save``/``submit``).

    Commits on success; on validation errors nothing is stored and the page comes back with errors.
    """
    now = utcnow()
    participant = session.get(Participant, participant_id)
    survey = participant.survey
    definition = survey.definition
    pages = definition["pages"]
    if not 0 <= page < len(pages):
        page = 0
    if not _lock_participant(session, participant_id, now, survey.anonymous):
        session.rollback()
        return PageView(page=0, outcome="completed")
    state = availability(survey, now)
    if state != "open":
        session.rollback()
        return PageView(page=0, outcome=state)

    response = in_progress_response(session, participant_id)
    values = stored_values(session, response.id) if response else {}
    questions = pages[page]["questions"]
    posted = pick(questions, form)
    for question in questions:  # this page's inputs replace what was stored for them
        for name in page_fields(question):
            values.pop(name, None)
    values.update(posted)

    last = page == len(pages) - 1 or next_visible_page(definition, values, page, 1) == page
    require = action in ("next", "submit")
    errors = check_questions(questions, values, require=require)
    if action == "submit" and not last:
        action = "next"
    if errors:
        session.rollback()
        return PageView(page=page, values=values, errors=errors)
    if action == "submit":
        # Every page is checked again: a page skipped (or an answer changed that reveals a question)
        # sends the person back to the first page with something to fix.
        for number, other in enumerate(pages):
            missing = check_questions(other["questions"], values, require=True)
            if missing:
                action, page, errors = "back_to", number, missing
                break

    if response is None:
        response = Response(
            id=uuid.uuid4().hex,
            survey_id=survey.id,
            participant_id=participant_id,
            status="in_progress",
            current_page=page,
            started_at=now,
            updated_at=now,
            attributes={},
        )
        session.add(response)
        session.flush()

    if action == "submit":
        if _complete(session, survey, response, participant, values, now) is None:
            session.rollback()
            return PageView(page=0, outcome="completed")
        session.commit()
        return PageView(page=page, outcome="submitted")

    if action == "back_to":
        target = page
    elif action == "back":
        target = next_visible_page(definition, values, page, -1)
    elif action == "next":
        target = next_visible_page(definition, values, page, 1)
    else:
        target = page
    _write_answers(session, response.id, definition, values)
    response.current_page = target
    response.updated_at = now
    session.commit()
    if action == "back_to":
        return PageView(page=target, values=values, errors=errors)
    return PageView(page=target, values=values, outcome="saved" if action == "save" else "page")


def _complete(
    session: Session, survey: Survey, response: Response, participant: Participant | None, values: Values,
    now: datetime, attributes: dict | None = None,
) -> str | None:
    """Mark the response complete exactly once (None when another request already did); in an
    anonymous survey it is re-created unlinkable. Returns the id of the complete response."""
    result = session.execute(
        update(Response)
        .where(Response.id == response.id, Response.status == "in_progress")
        .values(status="complete", completed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    kept = _report_attributes(survey, participant.attributes if participant is not None else (attributes or {}))
    if not survey.anonymous:
        session.execute(
            update(Response)
            .where(Response.id == response.id)
            .values(attributes=kept)
            .execution_options(synchronize_session=False)
        )
        _write_answers(session, response.id, survey.definition, values)
        if participant is not None:
            participant.completed_at = now
        return response.id
    # A fresh row with a fresh random id and fresh answer ids: nothing seen while the response was
    # in progress (its id, its row order, its exact times) can be matched to it afterwards.
    day = start_of_day(now)
    started = start_of_day(response.started_at)
    session.execute(delete(Response).where(Response.id == response.id))
    session.expunge(response)
    new_id = uuid.uuid4().hex
    session.add(
        Response(
            id=new_id,
            survey_id=survey.id,
            participant_id=None,
            status="complete",
            current_page=0,
            started_at=started,
            updated_at=day,
            completed_at=day,
            attributes=kept,
        )
    )
    session.flush()
    _write_answers(session, new_id, survey.definition, values)
    if participant is not None:
        participant.completed_at = day
        if participant.started_at is not None:
            participant.started_at = start_of_day(participant.started_at)
        session.flush()
        if is_postgres(session):
            _restamp_completed(session, survey.id)
    return new_id


# PostgreSQL stamps every row version with the transaction that wrote it (the ``xmin`` column), so a
# new anonymous response and its participant's completion would share one. Rewriting the survey's
# other completed participants in the same transaction gives them that stamp too. Rows another
# submit holds at this moment are skipped (never wait, never deadlock) and get it from the next submit;
# rows already written by this transaction are skipped, so seeding many answers at once stays linear.
RESTAMP_COMPLETED = text(
    """
    UPDATE participants SET completed_at = completed_at
    WHERE id IN (
        SELECT id FROM participants
        WHERE survey_id = :survey_id AND completed_at IS NOT NULL AND xmin <> pg_current_xact_id()::xid
        FOR UPDATE SKIP LOCKED
    )
    """
)


def _restamp_completed(session: Session, survey_id: int) -> None:
    session.execute(RESTAMP_COMPLETED, {"survey_id": survey_id})


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
        k: [format_value(x) for x in v] if isinstance(v, (list, tuple)) else [format_value(v)] for k, v in values.items()
    }
    errors: dict[str, str] = {}
    for page in survey.definition["pages"]:
        errors.update(check_questions(page["questions"], normalised, require=True))
    if errors:
        raise AnswerError(errors)
    if participant is not None:
        if not _lock_participant(session, participant.id, now, survey.anonymous):
            raise AnswerError({"": _("Deltagaren har redan svarat.")})
        session.refresh(participant)
        session.execute(delete(Response).where(Response.participant_id == participant.id))
    response = Response(
        id=uuid.uuid4().hex,
        survey_id=survey.id,
        participant_id=participant.id if participant is not None else None,
        status="in_progress",
        current_page=0,
        started_at=now,
        updated_at=now,
        attributes={},
    )
    session.add(response)
    session.flush()
    return _complete(session, survey, response, participant, normalised, now, attributes)


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
    for page in survey.definition["pages"]:
        for q in page["questions"]:
            key, lines = q["key"], []
            if q["type"] in CHOICE_TYPES:
                labels = {o["key"]: o["label"] for o in q["options"]}
                for chosen in values.get(key, []):
                    lines.append(labels.get(chosen) or f"{_('Annat')}: {first(values, key + '.other')}")
            elif q["type"] == "matrix":
                for row in q["rows"]:
                    value = first(values, f"{key}.{row['key']}")
                    if value:
                        lines.append(f"{row['label']}: {dont_know if value == 'dont_know' else value}")
            else:
                value = first(values, key)
                if value:
                    lines.append(dont_know if value == "dont_know" else value)
            if lines:
                out.append((q["text"], lines))
    return out
