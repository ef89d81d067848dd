"""Answering through the personal link: pages, saving, resuming, validation, submit, anonymity."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from services.survey.responses.domain import AnswerError, store_complete_response
from shared.models import Answer, Participant, Response, Survey
from tests.survey.conftest import PAGE1, PAGE2, PAGE3, csrf_from, token_of

PEOPLE = "email,name,organisation,organisationstyp,roll,delregion\r\nanna@ale.example,Anna Ek,Ale kommun,kommun,IT-chef,GR\r\n"


def post(client, token, data, action):
    return client.post(f"/s/{token}", data={**data, "action": action})


def test_complete_survey_page_by_page_with_csrf(app, db, make_survey):
    make_survey(participants=PEOPLE)
    token = token_of(db)
    client = app.test_client()
    page = client.get(f"/s/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Sida 1 av 3" in html and "10 minuter" in html and "kopplade till din personliga länk" in html
    for number, data in enumerate((PAGE1, PAGE2), start=1):
        response = client.post(
            f"/s/{token}", data={**data, "page": number - 1, "action": "next", "csrf_token": csrf_from(html)}
        )
        assert response.status_code == 303
        html = client.get(f"/s/{token}").get_data(as_text=True)
        assert f"Sida {number + 1} av 3" in html
    response = client.post(f"/s/{token}", data={**PAGE3, "page": 2, "action": "submit", "csrf_token": csrf_from(html)})
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tack för dina svar" in thanks and "informationsmötet i juni" in thanks
    again = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Du har redan svarat" in again


def test_post_without_csrf_token_is_refused(app, db, make_survey):
    make_survey(participants=PEOPLE)
    response = app.test_client().post(f"/s/{token_of(db)}", data={**PAGE1, "page": 0, "action": "next"})
    assert response.status_code == 400
    with db.sessions() as s:
        assert s.scalar(select(Response.id)) is None


def test_required_and_bounds_errors_keep_input(client, db, make_survey):
    make_survey(participants=PEOPLE)
    token = token_of(db)
    response = post(client, token, {"page": 0, "omraden": ["it"], "ar": "99", "omraden.other": "kvar"}, "next")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#q-delaktighet-0"' in html and "Välj ett av alternativen." in html
    assert 'href="#q-ar"' in html and "Fyll i ett tal mellan 0 och 15." in html
    assert 'value="99"' in html and 'value="kvar"' in html and 'value="it" checked' in html
    with db.sessions() as s:
        assert s.scalar(select(Answer.id)) is None


def test_unknown_option_keys_are_refused(client, db, make_survey):
    make_survey(participants=PEOPLE)
    response = post(client, token_of(db), {"page": 0, "delaktighet": "hacked", "omraden": ["nope"]}, "next")
    assert response.status_code == 422
    assert "Välj ett av alternativen i listan." in response.get_data(as_text=True)


def test_save_and_resume_where_left_off(client, app, db, make_survey):
    make_survey(participants=PEOPLE)
    token = token_of(db)
    post(client, token, {**PAGE1, "page": 0}, "next")
    saved = post(client, token, {"page": 1, "information": "2"}, "save")
    assert "Dina svar är sparade" in saved.get_data(as_text=True)
    html = app.test_client().get(f"/s/{token}").get_data(as_text=True)
    assert "Sida 2 av 3" in html and 'value="2" checked' in html
    back = post(client, token, {"page": 1, "information": "3"}, "back")
    assert back.status_code == 303
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Sida 1 av 3" in html and 'value="hog" checked' in html and 'value="Skolan"' in html


def test_show_if_hidden_question_is_not_required_nor_stored(client, db, make_survey):
    make_survey(participants=PEOPLE)
    token = token_of(db)
    post(client, token, {**PAGE1, "page": 0}, "next")
    post(client, token, {**PAGE2, "page": 1}, "next")
    post(client, token, {**PAGE3, "paus_paverkan": "2", "page": 2}, "submit")
    with db.sessions() as s:
        keys = set(s.scalars(select(Answer.question_key)))
    assert "paus_beskrivning" not in keys and {"delaktighet", "pastaenden", "lardomar"} <= keys


def test_anonymous_response_cannot_be_linked(client, db, make_survey):
    make_survey(participants=PEOPLE)
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
    make_survey(participants=PEOPLE, anonymous=False)
    token = token_of(db)
    for page, data in enumerate((PAGE1, PAGE2)):
        post(client, token, {**data, "page": page}, "next")
    post(client, token, {**PAGE3, "page": 2}, "submit")
    with db.sessions() as s:
        response = s.scalar(select(Response))
        assert response.participant_id is not None and response.status == "complete"
        assert s.scalar(select(Participant.completed_at)) == response.completed_at


def test_closed_not_open_and_unknown_links(client, db, make_survey, app):
    make_survey(participants=PEOPLE, opens="2098-05-04")
    token = token_of(db)
    early = client.get(f"/s/{token}").get_data(as_text=True)
    assert "har inte öppnat än" in early and "Enkäten öppnar 4 maj 2098." in early
    with db.transaction() as s:
        s.scalar(select(Survey)).status = "closed"
    assert "Enkäten är stängd" in client.get(f"/s/{token}").get_data(as_text=True)
    assert "Enkäten är stängd" in post(client, token, {**PAGE1, "page": 0}, "next").get_data(as_text=True)
    unknown = client.get("/s/not-a-token")
    assert unknown.status_code == 404 and "Enkät" not in unknown.get_data(as_text=True).split("<main", 1)[1]


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


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # parallel transactions need a server
def test_double_submit_gives_one_complete_response(app, db, make_survey):
    make_survey(participants=PEOPLE)
    token = token_of(db)
    app.config["WTF_CSRF_ENABLED"] = False
    first = app.test_client()
    post(first, token, {**PAGE1, "page": 0}, "next")
    post(first, token, {**PAGE2, "page": 1}, "next")
    barrier = threading.Barrier(8)
    statuses = []

    def submit():
        client = app.test_client()
        barrier.wait()
        response = post(client, token, {**PAGE3, "page": 2}, "submit")
        statuses.append((response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code in (200, 303) for code, _, _ in statuses)
    assert sum(1 for code, location, _ in statuses if location.endswith("/tack")) == 1
    assert all("Du har redan svarat" in body for code, _, body in statuses if code == 200)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT status, count(*) FROM responses GROUP BY status")).all() == [("complete", 1)]
        assert conn.execute(text("SELECT count(*) FROM answers WHERE question_key = 'lardomar'")).scalar() == 1


def test_submit_with_a_skipped_page_goes_back_to_it(client, db, make_survey):
    make_survey(participants=PEOPLE)
    token = token_of(db)
    # Straight to the last page (a crafted request): the required questions of pages 1–2 are missing.
    response = post(client, token, {**PAGE3, "page": 2}, "submit")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Sida 1 av 3" in html and 'href="#q-delaktighet-0"' in html
    with db.sessions() as s:
        assert s.scalar(select(Response.status)) == "in_progress"
        assert s.scalar(select(Participant.completed_at)) is None
        assert "lardomar" in set(s.scalars(select(Answer.question_key)))  # what was sent is kept


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_transaction_stamps_do_not_link_anonymous_responses(app, db, make_survey):
    """PostgreSQL's xmin (the writing transaction) must not pair a response with its participant."""
    make_survey(participants=PEOPLE + "bo@bor.example,Bo,Borås kommun,kommun,Chef,Sjuhärad\r\n")
    app.config["WTF_CSRF_ENABLED"] = False
    for email in ("anna@ale.example", "bo@bor.example"):
        client, token = app.test_client(), token_of(db, email)
        for page, data in enumerate((PAGE1, PAGE2)):
            post(client, token, {**data, "page": page}, "next")
        post(client, token, {**PAGE3, "page": 2}, "submit")
    with db.engine.connect() as conn:
        people = conn.execute(text("SELECT xmin::text FROM participants WHERE completed_at IS NOT NULL")).scalars().all()
        responses = conn.execute(text("SELECT xmin::text FROM responses ORDER BY completed_at")).scalars().all()
    assert len(people) == 2 and len(set(people)) == 1  # both rewritten by the last submit
    assert len(responses) == 2 and set(responses) - set(people)  # the first response matches no one


def test_nul_characters_are_not_a_server_error(client, db, make_survey):
    make_survey(participants=PEOPLE)
    response = post(client, token_of(db), {**PAGE1, "page": 0, "omraden.other": "Sko\x00lan"}, "next")
    assert response.status_code == 303
    with db.sessions() as s:
        assert s.scalar(select(Answer.text_value).where(Answer.option_key == "other")) == "Skolan"
