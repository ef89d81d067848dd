"""Declining reminders: the page's button (with its CSRF token) and the mail client's one-click POST."""

from __future__ import annotations

from sqlalchemy import select

from shared.models import Participant
from tests.survey.conftest import csrf_from, token_of

PEOPLE = "email,name\nanna@ale.example,Anna Ek\n"


def test_decline_needs_a_post(client, db, make_survey):
    make_survey(participants=PEOPLE)
    token = token_of(db)
    assert "Tacka nej till påminnelser" in client.get(f"/s/{token}/decline").get_data(as_text=True)
    with db.sessions() as s:
        assert s.scalar(select(Participant.declined_at)) is None
    assert "inga fler påminnelser" in client.post(f"/s/{token}/decline").get_data(as_text=True)
    with db.sessions() as s:
        assert s.scalar(select(Participant.declined_at)) is not None


def test_decline_by_the_mail_clients_one_click_post_and_csrf_for_the_button(app, db, make_survey):
    make_survey(participants=PEOPLE)
    token = token_of(db)
    browser = app.test_client()
    assert browser.post(f"/s/{token}/decline").status_code == 400  # the page's button needs its token
    page = browser.get(f"/s/{token}/decline").get_data(as_text=True)
    assert browser.post(f"/s/{token}/decline", data={"csrf_token": csrf_from(page)}).status_code == 200
    with db.transaction() as s:
        s.scalar(select(Participant)).declined_at = None
    mail_client = app.test_client()
    response = mail_client.post(f"/s/{token}/decline", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    with db.sessions() as s:
        assert s.scalar(select(Participant.declined_at)) is not None
