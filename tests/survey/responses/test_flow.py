"""Moving through the pages: saving and resuming, follow-up questions, one submit wins, skipped pages."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from shared.models import Answer, Participant, Response
from tests.survey.conftest import PAGE1, PAGE2, PAGE3, RESPONDENTS, post, token_of


def test_save_and_resume_where_left_off(client, app, db, make_survey):
    make_survey(participants=RESPONDENTS)
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
    make_survey(participants=RESPONDENTS)
    token = token_of(db)
    post(client, token, {**PAGE1, "page": 0}, "next")
    post(client, token, {**PAGE2, "page": 1}, "next")
    post(client, token, {**PAGE3, "paus_paverkan": "2", "page": 2}, "submit")
    with db.sessions() as s:
        keys = set(s.scalars(select(Answer.question_key)))
    assert "paus_beskrivning" not in keys and {"delaktighet", "pastaenden", "lardomar"} <= keys


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # parallel transactions need a server
def test_double_submit_gives_one_complete_response(app, db, make_survey):
    make_survey(participants=RESPONDENTS)
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
    make_survey(participants=RESPONDENTS)
    token = token_of(db)
    # Straight to the last page (a crafted request): the required questions of pages 1–2 are missing.
    response = post(client, token, {**PAGE3, "page": 2}, "submit")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Sida 1 av 3" in html and 'href="#q-delaktighet-0"' in html
    with db.sessions() as s:
        assert s.scalar(select(Response.status)) == "in_progress"
        assert s.scalar(select(Participant.completed_at)) is None
        assert "lardomar" in set(s.scalars(select(Answer.question_key)))  # what was sent is kept
