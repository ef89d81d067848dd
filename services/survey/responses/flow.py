"""Answering through the personal link: which page to show, saving a page, resuming, submitting.

Every write for a link starts by locking the participant row with a conditional UPDATE
(``… WHERE completed_at IS NULL``), so two tabs or a double click are serialised, and submitting
is a conditional ``UPDATE responses … WHERE status='in_progress'`` (in an anonymous survey a
``DELETE`` of that row, which a fresh one replaces) whose row count decides the winner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session, joinedload, load_only

from services.survey.participants.domain import token_hash
from services.survey.responses.forms import Values, check_questions, is_visible, page_fields, pick
from services.survey.responses.storage import (
    RESPONSES,
    begin_response,
    complete,
    in_progress_values,
    lock_participant,
    stored_values,
    write_answers,
)
from services.survey.surveys.questions import SurveyDefinition, definition_of
from shared.clock import utcnow
from shared.models import Participant, ParticipantLink, Response, ResponseStatus, Survey, SurveyStatus


class Outcome(StrEnum):
    """What a request to the personal link leads to: the page of questions, or a message of that name."""

    PAGE = "page"
    SAVED = "saved"
    SUBMITTED = "submitted"
    COMPLETED = "completed"  # answered before
    CLOSED = "closed"  # closed, or past its closing time
    NOT_OPEN = "not_open"  # a draft, or before its opening time


def availability(survey: Survey, now: datetime | None = None) -> Outcome:
    """``PAGE`` while the survey takes answers, else ``NOT_OPEN`` or ``CLOSED``."""
    now = now or utcnow()
    if survey.status == SurveyStatus.CLOSED or (survey.closes_at is not None and now >= survey.closes_at):
        return Outcome.CLOSED
    if survey.status != SurveyStatus.OPEN or (survey.opens_at is not None and now < survey.opens_at):
        return Outcome.NOT_OPEN
    return Outcome.PAGE


# Built once: every respondent's request runs it, and building it cost as much as running it.
BY_TOKEN_HASH = (
    select(Participant)
    .options(
        # Only what a respondent's requests use: each column loaded is work for the driver and the ORM
        # on every request, and the survey's mail texts and reminder settings are a dozen of them.
        # Anything else is read with a query of its own when used (the statement count test in
        # tests/survey/responses/test_public.py notices one on the respondent's pages).
        load_only(
            Participant.survey_id,
            Participant.name,
            Participant.attributes,
            Participant.started_at,
            Participant.completed_at,
            Participant.declined_at,  # the decline page
        ),
        joinedload(Participant.survey).load_only(
            Survey.title,
            Survey.language,
            Survey.anonymous,
            Survey.status,
            Survey.opens_at,
            Survey.closes_at,
            Survey.definition,
            Survey.report_attributes,
            Survey.contact_name,
            Survey.contact_email,
            Survey.contact_phone,
        ),
    )
    .join(ParticipantLink, ParticipantLink.participant_id == Participant.id)
    .where(ParticipantLink.token_hash == bindparam("token_hash"))
)


# Where a saved response stands; built once for the same reason.
MOVE_RESPONSE = (
    update(RESPONSES)
    .where(RESPONSES.c.id == bindparam("response_id"))
    .values(current_page=bindparam("current_page"), updated_at=bindparam("updated_at"))
)


def find_participant(session: Session, token: str) -> Participant | None:
    """The participant a personal link was mailed to (looked up by the token's hash)."""
    if not token or len(token) > 64:
        return None
    return session.scalar(BY_TOKEN_HASH, {"token_hash": token_hash(token)})


@dataclass
class PageView:
    """What the respondent's page shows: which page, the values to fill in, and any errors."""

    page: int
    values: Values = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    outcome: Outcome = Outcome.PAGE


# A page view's first query: the participant and survey as above, with where their response in
# progress stands. Its answers come in a second query, and only when there is one: joined in here
# they would repeat the participant's and survey's columns on every row, for the ORM to go through.
BY_TOKEN_HASH_WITH_PROGRESS = BY_TOKEN_HASH.add_columns(
    Response.id.label("response_id"), Response.current_page
).outerjoin(Response, and_(Response.participant_id == Participant.id, Response.status == ResponseStatus.IN_PROGRESS))


def open_link(session: Session, token: str) -> tuple[Participant, PageView] | None:
    """GET of the personal link: whose it is and where they left off (changes nothing); None for a
    link nobody was sent."""
    if not token or len(token) > 64:
        return None
    found = session.execute(BY_TOKEN_HASH_WITH_PROGRESS, {"token_hash": token_hash(token)}).first()
    if found is None:
        return None
    participant = found.Participant
    survey = participant.survey
    if participant.completed_at is not None:
        return participant, PageView(page=0, outcome=Outcome.COMPLETED)
    state = availability(survey)
    if state != Outcome.PAGE:
        return participant, PageView(page=0, outcome=state)
    if found.response_id is None:
        return participant, PageView(page=0)
    page = min(max(found.current_page, 0), len(definition_of(survey).pages) - 1)
    return participant, PageView(page=page, values=stored_values(session, found.response_id))


def next_visible_page(definition: SurveyDefinition, values: Values, page: int, step: int) -> int:
    """The next page in ``step`` direction that has a visible question (pages may be all hidden)."""
    pages = definition.pages
    candidate = page + step
    while 0 <= candidate < len(pages):
        if any(is_visible(q, values) for q in pages[candidate].questions):
            return candidate
        candidate += step
    return min(max(candidate, 0), len(pages) - 1) if step < 0 else page


def save_page(session: Session, participant_id: int, page: int, form, action: str) -> PageView:
    """POST of a page: store its answers and move on (``back``/``next``/``save``/``submit``).

    Commits on success; on validation errors nothing is stored and the page comes back with errors.
    """
    now = utcnow()
    participant = session.get_one(Participant, participant_id)  # the page found it by its link
    survey = participant.survey
    definition = definition_of(survey)
    pages = definition.pages
    if not 0 <= page < len(pages):
        page = 0
    if not lock_participant(session, participant_id, now, survey.anonymous):
        session.rollback()
        return PageView(page=0, outcome=Outcome.COMPLETED)
    state = availability(survey, now)
    if state != Outcome.PAGE:
        session.rollback()
        return PageView(page=0, outcome=state)

    progress = in_progress_values(session, participant_id)
    values = progress.values if progress else {}
    questions = pages[page].questions
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
            missing = check_questions(other.questions, values, require=True)
            if missing:
                action, page, errors = "back_to", number, missing
                break

    if action == "submit":
        if progress is None:
            response_id, started_at = begin_response(session, survey.id, participant_id, page, now), now
        else:
            response_id, started_at = progress.response_id, progress.started_at
        if complete(session, survey, response_id, started_at, participant, values, now) is None:
            session.rollback()
            return PageView(page=0, outcome=Outcome.COMPLETED)
        session.commit()
        return PageView(page=page, outcome=Outcome.SUBMITTED)

    if action == "back_to":
        target = page
    elif action == "back":
        target = next_visible_page(definition, values, page, -1)
    elif action == "next":
        target = next_visible_page(definition, values, page, 1)
    else:
        target = page
    # Plain statements on the table rather than a Response object: a page saved is the most frequent
    # write, and the ORM's bookkeeping (unit of work, bulk statements) cost more than the statements.
    if progress is None:
        response_id = begin_response(session, survey.id, participant_id, target, now)
    else:
        response_id = progress.response_id
        session.execute(MOVE_RESPONSE, {"response_id": response_id, "current_page": target, "updated_at": now})
    write_answers(session, response_id, definition, values)
    session.commit()
    if action == "back_to":
        return PageView(page=target, values=values, errors=errors)
    return PageView(page=target, values=values, outcome=Outcome.SAVED if action == "save" else Outcome.PAGE)
