"""Free texts: a page at a time, searchable (with % and _ as plain characters)."""

from __future__ import annotations

from services.survey.results.scope import Filter
from services.survey.results.texts import text_answers
from tests.survey.results_data import add_response, make_survey


def test_text_answers_paginated_and_searchable(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        for i in range(30):
            add_response(s, survey, {"lardomar": f"Lärdom nummer {i}" + (" om 100% samverkan" if i % 10 == 0 else "")})
        page2 = text_answers(s, survey, "lardomar", Filter(), None, 2)
        found = text_answers(s, survey, "lardomar", Filter(), "100%", 1)
        nothing = text_answers(s, survey, "lardomar", Filter(), "_", 1)

    assert (page2.total, page2.pages, len(page2.items)) == (30, 2, 5)
    assert found.total == 3  # the % is a literal character, not a wildcard
    assert nothing.total == 0
