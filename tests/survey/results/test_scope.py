"""Filters: every figure restricted to one attribute value, never to (or leaving out) a small group."""

from __future__ import annotations

from services.survey.results.figures import question_results
from services.survey.results.scope import Filter, filter_allowed, report_attribute_values, response_groups
from tests.survey.results_data import by_key, make_regions, make_survey


def test_filter_restricts_every_figure_and_refuses_small_groups(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        make_regions(s, survey, {"GR": 6, "Fyrbodal": 8, "Sjuhärad": 3})
        gr = question_results(s, survey, Filter("delregion", "GR"))
        small = question_results(s, survey, Filter("delregion", "Sjuhärad"))
        values = report_attribute_values(response_groups(s, survey), 17, survey.min_group_size)

    assert gr.total == 6 and by_key(gr)["delaktighet"].respondents == 6
    assert small.hidden and small.questions == []
    assert values["delregion"] == ["Fyrbodal", "GR"]  # the menu does not offer the group of 3


def test_filter_that_leaves_out_a_small_group_is_refused(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        make_regions(s, survey, {"GR": 20, "Sjuhärad": 2})
        assert not filter_allowed(s, survey, Filter("delregion", "GR"))
