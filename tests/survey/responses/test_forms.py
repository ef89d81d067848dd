"""Checking a page: required answers, bounds and unknown options are refused, and what was typed stays."""

from __future__ import annotations

from sqlalchemy import select

from shared.models import Answer
from tests.survey.conftest import RESPONDENTS, post, token_of


def test_required_and_bounds_errors_keep_input(client, db, make_survey):
    make_survey(participants=RESPONDENTS)
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
    make_survey(participants=RESPONDENTS)
    response = post(client, token_of(db), {"page": 0, "delaktighet": "hacked", "omraden": ["nope"]}, "next")
    assert response.status_code == 422
    assert "Välj ett av alternativen i listan." in response.get_data(as_text=True)
