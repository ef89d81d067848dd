"""Storing answers: anonymous responses cannot be linked to anyone (not even by PostgreSQL's
transaction stamps or the rows' order, once the day's seal has run), named ones keep the link, and
test data is checked like a submit."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select, text

from services.survey.responses.storage import (
    ANSWER_COLUMNS,
    AnswerError,
    Sealed,
    seal_past_days,
    store_complete_response,
)
from services.survey.surveys.domain import close_survey
from shared.clock import utcnow
from shared.models import Answer, Participant, Response, Survey
from tests.survey.conftest import PAGE1, PAGE2, PAGE3, RESPONDENTS, post, token_of


def test_anonymous_response_cannot_be_linked(client, db, make_survey):
    make_survey(participants=RESPONDENTS)
    token = token_of(db)
    post(client, token, {**PAGE1, "page": 0}, "next")
    with db.sessions() as s:
        in_progress = s.scalar(select(Response))
        assert in_progress.participant_id is not None
        first_id = in_progress.id
    post(client, token, {**PAGE2, "page": 1}, "next")
    post(client, token, {**PAGE3, "page": 2}, "submit")
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM responses")).mappings().all()
        participant = conn.execute(text("SELECT * FROM participants")).mappings().one()
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == "complete" and row["participant_id"] is None
    assert row["id"] != first_id and len(row["id"]) == 32 and token not in str(dict(row))
    with db.sessions() as s:
        stored = s.get(Response, row["id"])
        p = s.get(Participant, participant["id"])
        for moment in (stored.started_at, stored.updated_at, stored.completed_at, p.completed_at, p.started_at):
            assert (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)
        assert stored.attributes == {"organisationstyp": "kommun", "delregion": "GR", "roll": "IT-chef"}
        assert "organisation" not in stored.attributes


def test_named_survey_keeps_the_link(client, db, make_survey):
    make_survey(participants=RESPONDENTS, anonymous=False)
    token = token_of(db)
    for page, data in enumerate((PAGE1, PAGE2)):
        post(client, token, {**data, "page": page}, "next")
    post(client, token, {**PAGE3, "page": 2}, "submit")
    with db.sessions() as s:
        response = s.scalar(select(Response))
        assert response.participant_id is not None and response.status == "complete"
        assert s.scalar(select(Participant.completed_at)) == response.completed_at


def test_store_complete_response_checks_like_a_submit(app, db, make_survey):
    survey_id = make_survey()
    with app.test_request_context(), db.transaction() as s:
        survey = s.get(Survey, survey_id)
        with pytest.raises(AnswerError) as caught:
            store_complete_response(s, survey, {"delaktighet": "hog"})
        assert set(caught.value.errors) == {"information"}
        store_complete_response(s, survey, {**PAGE1, **PAGE2, **PAGE3}, attributes={"delregion": "GR", "email": "x"})
    with db.sessions() as s:
        response = s.scalar(select(Response))
        assert response.status == "complete" and response.attributes == {"delregion": "GR"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_transaction_stamps_do_not_link_anonymous_responses(app, db, make_survey):
    """PostgreSQL's xmin (the writing transaction) must not pair a response with its participant."""
    make_survey(participants=RESPONDENTS + "bo@bor.example,Bo,Borås kommun,kommun,Chef,Sjuhärad\r\n")
    app.config["WTF_CSRF_ENABLED"] = False
    for email in ("anna@ale.example", "bo@bor.example"):
        client, token = app.test_client(), token_of(db, email)
        for page, data in enumerate((PAGE1, PAGE2)):
            post(client, token, {**data, "page": page}, "next")
        post(client, token, {**PAGE3, "page": 2}, "submit")
    with db.transaction() as s:  # the next day's seal
        assert seal_past_days(s, utcnow() + timedelta(days=1)) == Sealed(days=1, responses=2)
    with db.engine.connect() as conn:
        people = (
            conn.execute(text("SELECT xmin::text FROM participants WHERE completed_at IS NOT NULL")).scalars().all()
        )
        responses = conn.execute(text("SELECT xmin::text FROM responses")).scalars().all()
    assert len(people) == 2 and len(set(people)) == 1  # both rewritten by the seal
    assert len(responses) == 2 and set(responses) == set(people)  # either response could be either's


def lessons(i: int) -> dict:
    """Complete answers whose free text tells which submit they came from."""
    return {**PAGE1, **PAGE2, **PAGE3, "lardomar": f"Svar {i:04d}"}


def submit_on_days(app, db, survey_id: int, days: list[datetime]) -> None:
    """One submit per day given, each in its own transaction, by participants added for it."""
    with db.transaction() as s:
        for i in range(len(days)):
            s.add(Participant(survey_id=survey_id, email=f"p{i}@x.example", name="", attributes={"delregion": "GR"}))
    with db.sessions() as s:
        people = s.scalars(
            select(Participant.id).where(Participant.email.like("p%@x.example")).order_by(Participant.id)
        ).all()
    with app.test_request_context():
        for i, (person, day) in enumerate(zip(people, days, strict=True)):
            with db.transaction() as s:
                survey = s.get_one(Survey, survey_id)
                store_complete_response(s, survey, lessons(i), s.get_one(Participant, person), now=day)


def lessons_by_response(db) -> dict[str, str]:
    with db.sessions() as s:
        rows = s.execute(select(Answer.response_id, Answer.text_value).where(Answer.question_key == "lardomar"))
        return dict(rows.all())


def every_answer(db) -> list[tuple]:
    """Every stored answer with its response's day and attributes, without any id."""
    with db.sessions() as s:
        rows = s.execute(
            select(Response.completed_at, Response.attributes, *ANSWER_COLUMNS).join(
                Answer, Answer.response_id == Response.id
            )
        ).all()
    return sorted((str(r[0]), str(r[1]), *map(str, r[2:])) for r in rows)


def test_a_submit_leaves_its_day_to_the_seal_which_rewrites_past_days(app, db, make_survey):
    survey_id = make_survey()
    today = utcnow()
    yesterday = today - timedelta(days=1)
    submit_on_days(app, db, survey_id, [yesterday] * 3 + [today] * 2)
    before, stored = lessons_by_response(db), every_answer(db)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).where(Response.awaiting_seal)) == 5
        assert s.scalar(select(func.count()).where(Participant.completed_at.is_not(None))) == 5

    with db.transaction() as s:
        assert seal_past_days(s, today) == Sealed(days=1, responses=3)
    after = lessons_by_response(db)
    assert sorted(after.values()) == sorted(before.values())  # the same answers…
    assert every_answer(db) == stored
    sealed = {response: lesson for response, lesson in after.items() if response not in before}
    assert sorted(sealed.values()) == ["Svar 0000", "Svar 0001", "Svar 0002"]  # …yesterday's under new ids
    with db.sessions() as s:
        awaiting = set(s.scalars(select(Response.id).where(Response.awaiting_seal)))
        assert len(awaiting) == 2 and awaiting == set(before) & set(after)  # today's wait, as they were
        assert s.scalar(select(func.count()).where(Participant.completed_at.is_not(None))) == 5

    with db.transaction() as s:
        assert seal_past_days(s, today) == Sealed(days=0, responses=0)  # a re-run does nothing
        assert seal_past_days(s, today + timedelta(days=1)) == Sealed(days=1, responses=2)
    assert every_answer(db) == stored
    assert not set(lessons_by_response(db)) & set(before)


def test_a_late_submit_to_a_sealed_day_has_the_whole_day_sealed_again(app, db, make_survey):
    """A submit begun before midnight lands on a day already sealed: it must not stand apart from the
    day's other responses (alone with its own stamp and place), so the next seal rewrites them all."""
    survey_id = make_survey()
    today = utcnow()
    yesterday = today - timedelta(days=1)
    submit_on_days(app, db, survey_id, [yesterday] * 3)
    with db.transaction() as s:
        assert seal_past_days(s, today) == Sealed(days=1, responses=3)
    sealed_once = set(lessons_by_response(db))
    with app.test_request_context(), db.transaction() as s:
        late = Participant(survey_id=survey_id, email="sen@x.example", name="", attributes={})
        s.add(late)
        s.flush()
        store_complete_response(s, s.get_one(Survey, survey_id), lessons(3), late, now=yesterday)
    with db.transaction() as s:
        assert seal_past_days(s, today) == Sealed(days=1, responses=4)
    assert not set(lessons_by_response(db)) & sealed_once
    assert sorted(lessons_by_response(db).values()) == [f"Svar {i:04d}" for i in range(4)]


def test_closing_a_survey_seals_it_today(app, db, make_survey):
    survey_id = make_survey()
    submit_on_days(app, db, survey_id, [utcnow()] * 2)
    before, stored = lessons_by_response(db), every_answer(db)
    with app.test_request_context(), db.transaction() as s:
        close_survey(s, s.get_one(Survey, survey_id))
    assert not set(lessons_by_response(db)) & set(before)
    assert every_answer(db) == stored
    with db.sessions() as s:
        assert s.scalar(select(func.count()).where(Response.awaiting_seal)) == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_after_the_seal_neither_stamps_nor_row_order_nor_ids_follow_the_submits(app, db, make_survey):
    survey_id = make_survey()
    today = utcnow()
    submit_on_days(app, db, survey_id, [today - timedelta(days=1)] * 100 + [today] * 100)

    def rises(query: str) -> int:
        """How often the next row in the query's order was sent in later (199 for submit order)."""
        with db.engine.connect() as conn:
            order = [int(lesson.removeprefix("Svar ")) for lesson in conn.execute(text(query)).scalars()]
        assert sorted(order) == list(range(200))
        return sum(later > earlier for earlier, later in pairwise(order))

    by_place = (
        "SELECT a.text_value FROM responses r JOIN answers a ON a.response_id = r.id"
        " WHERE a.question_key = 'lardomar' ORDER BY r.ctid"
    )
    answers_by_place = "SELECT text_value FROM answers WHERE question_key = 'lardomar' ORDER BY ctid"
    answers_by_id = "SELECT text_value FROM answers WHERE question_key = 'lardomar' ORDER BY id"

    def stamps() -> dict[str, set[str]]:
        with db.engine.connect() as conn:
            return {
                table: set(conn.execute(text(f"SELECT xmin::text FROM {table} {where}")).scalars())
                for table, where in (
                    ("responses", ""),
                    ("answers", ""),
                    ("participants", "WHERE completed_at IS NOT NULL"),
                )
            }

    assert len(stamps()["responses"]) == 200  # what the seal is for: each submit its own stamp

    with db.transaction() as s:
        assert seal_past_days(s, today + timedelta(days=1)) == Sealed(days=2, responses=200)
    sealed = stamps()
    assert len(sealed["participants"]) == 1  # (a) every completer shares one stamp…
    assert sealed["responses"] == sealed["answers"] == sealed["participants"]  # …with every response and answer
    for query in (by_place, answers_by_place, answers_by_id):  # (b) place and (c) ids are not the submit order
        assert 60 < rises(query) < 140, query  # a random order rises about 100 times, give or take 4


def test_answer_ids_are_not_a_sequence(client, db, make_survey):
    make_survey(participants=RESPONDENTS)
    token = token_of(db)
    for page, data in enumerate((PAGE1, PAGE2)):
        post(client, token, {**data, "page": page}, "next")
    post(client, token, {**PAGE3, "page": 2}, "submit")
    with db.sessions() as s:
        ids = sorted(s.scalars(select(Answer.id)))
    assert len(ids) > 10 and ids[-1] - ids[0] > 1000 * len(ids)
