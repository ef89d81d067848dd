"""The evaluator's preview: the respondent's pages, checked but never stored."""

from __future__ import annotations

from sqlalchemy import func, select

from shared.models import Participant
from tests.survey.conftest import post_form


def test_preview_is_the_respondents_view_and_stores_nothing(evaluator, db, make_survey):
    survey_id = make_survey(open=False)
    url = f"/admin/surveys/{survey_id}/preview"
    html = evaluator.get(url).get_data(as_text=True)
    assert "Förhandsvisning" in html and "Sida 1 av 3" in html and 'name="delaktighet"' in html
    nxt = post_form(evaluator, url, {"page": "0", "action": "next", "delaktighet": "hog"})
    assert "Sida 2 av 3" in nxt.get_data(as_text=True)
    missing = post_form(evaluator, url, {"page": "1", "action": "next"})
    assert missing.status_code == 422 and "Välj ett värde." in missing.get_data(as_text=True)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 0
