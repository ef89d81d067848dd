"""The personal link in a browser: page by page with CSRF, closed / not yet open / unknown links, odd input."""

from __future__ import annotations

import copy

import yaml
from sqlalchemy import event, func, select

from shared.models import Answer, Response, Survey
from tests.survey.conftest import MILLENNIUM, PAGE1, PAGE2, PAGE3, RESPONDENTS, csrf_from, post, token_of


def test_complete_survey_page_by_page_with_csrf(app, db, make_survey):
    make_survey(participants=RESPONDENTS)
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
    make_survey(participants=RESPONDENTS)
    response = app.test_client().post(f"/s/{token_of(db)}", data={**PAGE1, "page": 0, "action": "next"})
    assert response.status_code == 400
    with db.sessions() as s:
        assert s.scalar(select(Response.id)) is None


def test_closed_not_open_and_unknown_links(client, db, make_survey, app):
    make_survey(participants=RESPONDENTS, opens="2098-05-04")
    token = token_of(db)
    early = client.get(f"/s/{token}").get_data(as_text=True)
    assert "har inte öppnat än" in early and "Enkäten öppnar 4 maj 2098." in early
    with db.transaction() as s:
        s.scalar(select(Survey)).status = "closed"
    assert "Enkäten är stängd" in client.get(f"/s/{token}").get_data(as_text=True)
    assert "Enkäten är stängd" in post(client, token, {**PAGE1, "page": 0}, "next").get_data(as_text=True)
    unknown = client.get("/s/not-a-token")
    assert unknown.status_code == 404 and "Enkät" not in unknown.get_data(as_text=True).split("<main", 1)[1]


def test_nul_characters_are_not_a_server_error(client, db, make_survey):
    make_survey(participants=RESPONDENTS)
    response = post(client, token_of(db), {**PAGE1, "page": 0, "omraden.other": "Sko\x00lan"}, "next")
    assert response.status_code == 303
    with db.sessions() as s:
        assert s.scalar(select(Answer.text_value).where(Answer.option_key == "other")) == "Skolan"


def test_a_follow_up_question_names_the_answers_in_words_not_keys(client, db, make_survey):
    pages = yaml.safe_load(MILLENNIUM.read_text(encoding="utf-8"))["pages"]
    pages[0]["questions"][2]["show_if"] = {"question": "delaktighet", "in": ["mycket_hog", "hog"]}
    make_survey(participants=RESPONDENTS, pages=pages)
    html = client.get(f"/s/{token_of(db)}").get_data(as_text=True)
    assert "Besvara bara om du svarade I mycket hög grad eller I ganska hög grad på frågan" in html
    assert 'data-show-values="mycket_hog hog"' in html  # the keys are for the script that shows it live


def test_long_answers_are_not_held_back_by_the_public_form_limit(client, make_survey, db):
    """An answer page takes far more than the 64 kB of other public forms: long texts are saved."""
    make_survey(participants=RESPONDENTS)
    token = token_of(db)
    long_texts = {"paus_beskrivning": "å" * 10_000, "lardomar": "ö" * 10_000}  # 120 kB as the browser sends it
    response = client.post(f"/s/{token}", data={**PAGE3, **long_texts, "page": 2, "action": "save"})
    assert response.status_code == 200 and "Dina svar är sparade" in response.get_data(as_text=True)
    with db.sessions() as s:
        rows = s.execute(select(Answer.question_key, Answer.text_value).where(Answer.text_value.is_not(None))).all()
    assert dict(rows) == long_texts


def test_the_number_of_sql_statements_per_page_stays_fixed(client, app, db, make_survey):
    """Every respondent's request costs a fixed number of statements, however many have answered;
    a change that adds one (a lazy load, a query per question) fails here."""
    make_survey(participants=RESPONDENTS)
    token = token_of(db)
    statements: list[str] = []
    engine = app.extensions["utskick"].db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    # The footer's organisation settings are read once a minute per process, not per page: read now.
    client.get("/privacy")
    event.listen(engine, "before_cursor_execute", count)
    try:
        counts = {}
        for name, request in (
            ("first page", lambda: client.get(f"/s/{token}")),
            ("next", lambda: post(client, token, {**PAGE1, "page": 0}, "next")),
            ("resumed page", lambda: client.get(f"/s/{token}")),
            ("save", lambda: post(client, token, {**PAGE2, "page": 1}, "save")),
            ("submit", lambda: post(client, token, {**PAGE1, **PAGE2, **PAGE3, "page": 2}, "submit")),
        ):
            statements.clear()
            assert request().status_code in (200, 303)
            counts[name] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The submit of an anonymous survey asks whether a webhook waits for a response count (one
    # statement; the count itself only when one does); the same on both databases (the day's seal
    # does the rest, not the submit).
    assert counts == {"first page": 1, "next": 6, "resumed page": 2, "save": 6, "submit": 8}


TWO_RESPONDENTS = RESPONDENTS + "bo@ale.example,Bo Ek,Ale kommun,kommun,IT-chef,GR\r\n"


def test_the_page_sets_no_cookie_and_a_form_token_belongs_to_its_own_link(app, db, make_survey):
    """The form token is made from the personal link, not kept in a session: the respondent gets no
    cookie, and a token copied from someone else's page is refused."""
    make_survey(participants=TWO_RESPONDENTS)
    anna, bo = token_of(db), token_of(db, "bo@ale.example")
    client = app.test_client()
    page = client.get(f"/s/{anna}")
    assert "Set-Cookie" not in page.headers
    annas_token = csrf_from(page.get_data(as_text=True))
    refused = client.post(f"/s/{bo}", data={**PAGE1, "page": 0, "action": "next", "csrf_token": annas_token})
    assert refused.status_code == 400
    accepted = client.post(f"/s/{anna}", data={**PAGE1, "page": 0, "action": "next", "csrf_token": annas_token})
    assert accepted.status_code == 303
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Response)) == 1


def test_questions_rendered_once_show_no_one_elses_answers_and_follow_an_edit(client, db, make_survey):
    """The unanswered questions' HTML is kept between requests: another respondent's answers and
    errors never appear in it, and a changed question text shows on the next page view."""
    survey_id = make_survey(participants=TWO_RESPONDENTS)
    anna, bo = token_of(db), token_of(db, "bo@ale.example")
    assert 'value="hog" checked' not in client.get(f"/s/{bo}").get_data(as_text=True)
    missing = post(client, anna, {"omraden": ["it"], "page": 0}, "next")  # delaktighet left out
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.get_data(as_text=True)
    post(client, anna, {**PAGE1, "page": 0}, "save")
    assert 'value="hog" checked' in client.get(f"/s/{anna}").get_data(as_text=True)
    blank = client.get(f"/s/{bo}").get_data(as_text=True)
    assert 'value="hog" checked' not in blank and 'aria-invalid="true"' not in blank and "Skolan" not in blank
    with db.transaction() as s:
        survey = s.get(Survey, survey_id)
        definition = copy.deepcopy(survey.definition)
        definition["pages"][0]["questions"][0]["text"] = "Hur delaktig har du varit?"
        survey.definition = definition
    assert "Hur delaktig har du varit?" in client.get(f"/s/{bo}").get_data(as_text=True)
