"""Storing answers: anonymous responses cannot be linked to anyone (not even by PostgreSQL's
transaction stamps), named ones keep the link, and test data is checked like a submit."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from services.survey.responses.storage import RESTAMP_WITH, AnswerError, start_of_day, store_complete_response
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
    with db.engine.connect() as conn:
        people = (
            conn.execute(text("SELECT xmin::text FROM participants WHERE completed_at IS NOT NULL")).scalars().all()
        )
        responses = conn.execute(text("SELECT xmin::text FROM responses ORDER BY completed_at")).scalars().all()
    assert len(people) == 2 and len(set(people)) == 1  # both rewritten by the last submit
    assert len(responses) == 2 and set(responses) - set(people)  # the first response matches no one


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_submit_restamps_a_bounded_number_of_same_day_completers(app, db, make_survey):
    """The cost of a submit does not grow with those who answered before, yet it shares its stamp
    with other participants who completed the same day."""
    survey_id = make_survey(participants=RESPONDENTS)
    with db.transaction() as s:
        s.execute(
            text(
                "INSERT INTO participants"
                " (survey_id, email, name, attributes, reminders_sent, completed_at, created_at)"
                " SELECT :survey, 'p' || i || '@x.example', '', '{}', 0, :day, now() FROM generate_series(1, 400) i"
            ),
            {"survey": survey_id, "day": start_of_day(utcnow())},
        )
    app.config["WTF_CSRF_ENABLED"] = False
    client, token = app.test_client(), token_of(db)
    for page, data in enumerate((PAGE1, PAGE2)):
        post(client, token, {**data, "page": page}, "next")
    post(client, token, {**PAGE3, "page": 2}, "submit")
    with db.engine.connect() as conn:
        stamp = conn.execute(text("SELECT xmin::text FROM responses")).scalar_one()
        sharing = conn.execute(text("SELECT count(*) FROM participants WHERE xmin::text = :x"), {"x": stamp}).scalar()
    assert RESTAMP_WITH // 4 < sharing <= RESTAMP_WITH + 1


def test_answer_ids_are_not_a_sequence(client, db, make_survey):
    make_survey(participants=RESPONDENTS)
    token = token_of(db)
    for page, data in enumerate((PAGE1, PAGE2)):
        post(client, token, {**data, "page": page}, "next")
    post(client, token, {**PAGE3, "page": 2}, "submit")
    with db.sessions() as s:
        ids = sorted(s.scalars(select(Answer.id)))
    assert len(ids) > 10 and ids[-1] - ids[0] > 1000 * len(ids)
