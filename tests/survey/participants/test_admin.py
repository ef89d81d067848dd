"""The participant pages: add, change and remove one person; a person's answers only in a named survey."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.models import Participant, Survey
from tests.survey.conftest import post_form


def test_participant_add_edit_remove_pages(evaluator, db, make_survey):
    survey_id = make_survey()
    listing = f"/admin/surveys/{survey_id}/participants"
    bad = post_form(evaluator, listing + "/new", {"email": "inte en adress", "name": "X"}, page_url=listing)
    assert bad.status_code == 422 and "inte en giltig e-postadress" in bad.get_data(as_text=True)
    assert 'value="X"' in bad.get_data(as_text=True)
    ok = post_form(evaluator, listing + "/new", {"email": "ny@x.example", "name": "Ny", "attributes": "roll: chef"}, page_url=listing)
    assert ok.status_code == 302
    with db.sessions() as s:
        person = s.scalar(select(Participant))
    edit = f"{listing}/{person.id}"
    assert "roll: chef" in evaluator.get(edit).get_data(as_text=True)
    post_form(evaluator, edit, {"email": "ny@x.example", "name": "Ny Person", "attributes": ""})
    assert "Ny Person" in evaluator.get(listing).get_data(as_text=True)
    post_form(evaluator, edit + "/remove", {}, page_url=edit)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 0


@pytest.mark.parametrize("anonymous", [False, True])
def test_participant_page_shows_answers_only_in_a_named_survey(evaluator, db, make_survey, anonymous):
    from services.survey.responses.storage import store_complete_response
    from tests.survey.conftest import PAGE1, PAGE2, PAGE3

    survey_id = make_survey(participants="email,name\nanna@ale.example,Anna\n", anonymous=anonymous)
    with db.transaction() as s:
        person = s.scalar(select(Participant))
        store_complete_response(s, s.get(Survey, survey_id), {**PAGE1, **PAGE2, **PAGE3}, participant=person)
        person_id = person.id
    html = evaluator.get(f"/admin/surveys/{survey_id}/participants/{person_id}").get_data(as_text=True)
    if anonymous:
        assert "Samverka tidigt." not in html and "svaren kan inte kopplas till deltagaren" in html
    else:
        assert "Samverka tidigt." in html and "I ganska hög grad" in html and "Annat: Skolan" in html
        assert "Samverkan med regionen fungerade väl: Vet inte" in html

