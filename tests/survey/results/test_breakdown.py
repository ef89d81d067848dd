"""Breakdowns: counts and row percentages by attribute, by another question and by matrix row, and the
small-group rule (a second group hidden so the totals do not give the first away)."""

from __future__ import annotations

import pytest

from services.survey.results.breakdown import BreakdownError, breakdown
from tests.survey.results_data import add_response, make_regions, make_survey


def test_breakdown_by_attribute_counts_and_row_percentages(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        make_regions(s, survey, {"GR": 6, "Fyrbodal": 8})
        table = breakdown(s, survey, "delaktighet", "attr:delregion")

    rows = {g.label: g for g in table.groups}
    hog = [c.key for c in table.columns].index("hog")
    assert rows["GR"].size == 6 and rows["GR"].cells[hog].count == 3
    assert rows["GR"].cells[hog].percent == pytest.approx(50.0)
    assert rows["Fyrbodal"].cells[hog].count == 4
    assert table.total.size == 14 and table.total.cells[hog].count == 7


def test_small_group_hidden_and_a_second_group_protects_it(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        make_regions(s, survey, {"GR": 12, "Fyrbodal": 7, "Skaraborg": 9, "Sjuhärad": 3})
        table = breakdown(s, survey, "delaktighet", "attr:delregion")

    rows = {g.label: g for g in table.groups}
    assert rows["Sjuhärad"].hidden and rows["Sjuhärad"].cells == [] and rows["Sjuhärad"].size is None
    # Total minus the shown groups must not give Sjuhärad away: the smallest other group goes too.
    assert rows["Fyrbodal"].hidden and rows["Fyrbodal"].protects
    assert not rows["GR"].hidden and not rows["Skaraborg"].hidden
    assert table.total.size == 31


def test_two_small_groups_need_no_extra_protection(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        make_regions(s, survey, {"GR": 12, "Fyrbodal": 2, "Skaraborg": 9, "Sjuhärad": 3})
        table = breakdown(s, survey, "information", "attr:delregion")
    assert [g.label for g in table.groups if g.hidden] == ["Fyrbodal", "Sjuhärad"]
    assert not any(g.protects for g in table.groups)


def test_group_size_is_configurable(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, min_group_size=2)
        make_regions(s, survey, {"GR": 12, "Sjuhärad": 3})
        table = breakdown(s, survey, "delaktighet", "attr:delregion")
    assert not any(g.hidden for g in table.groups)


def test_breakdown_by_another_question_and_by_matrix_row(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        for i in range(12):
            add_response(
                s,
                survey,
                {
                    "delaktighet": "hog" if i < 6 else "lag",
                    "omraden": ["it"] + (["elevhalsa"] if i < 9 else []),
                    "pastaenden.tid": str(1 + i % 2),
                },
            )
        table = breakdown(s, survey, "omraden", "q:delaktighet")
        by_row = breakdown(s, survey, "pastaenden.tid", "q:delaktighet")
        with pytest.raises(BreakdownError):
            breakdown(s, survey, "lardomar", "q:delaktighet")
        with pytest.raises(BreakdownError):
            breakdown(s, survey, "delaktighet", "attr:email")

    rows = {g.key: g for g in table.groups}
    elev = [c.key for c in table.columns].index("elevhalsa")
    assert rows["hog"].cells[elev].count == 6 and rows["lag"].cells[elev].count == 3
    assert rows["lag"].cells[elev].percent == pytest.approx(50.0)
    assert [g.key for g in table.groups] == ["hog", "lag"]  # in the question's order
    one = [c.key for c in by_row.columns].index("1")
    assert {g.key: g.cells[one].count for g in by_row.groups} == {"hog": 3, "lag": 3}


def test_breakdown_by_a_multiple_question_counts_each_response_once_in_the_total(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        for i in range(12):
            chosen = ["it", "styrning"] if i < 8 else ["it"]
            add_response(
                s,
                survey,
                {"delaktighet": "hog" if i % 2 else "lag", "omraden": chosen},
                attributes={"delregion": "GR" if i < 6 else "Fyrbodal"},
            )
        add_response(s, survey, {"delaktighet": "hog"}, attributes={"delregion": "GR"})  # no omraden
        by_multiple = breakdown(s, survey, "delaktighet", "q:omraden")
        multiple_by_region = breakdown(s, survey, "omraden", "attr:delregion")

    groups = {g.key: g for g in by_multiple.groups}
    assert (groups["it"].size, groups["styrning"].size) == (12, 8)
    assert by_multiple.total.size == 12  # people in both groups are counted once
    hog = [c.key for c in by_multiple.columns].index("hog")
    assert by_multiple.total.cells[hog].count == 6
    regions = {g.key: g for g in multiple_by_region.groups}
    assert (regions["GR"].size, regions["Fyrbodal"].size) == (6, 6)
    it = [c.key for c in multiple_by_region.columns].index("it")
    styrning = [c.key for c in multiple_by_region.columns].index("styrning")
    assert regions["Fyrbodal"].cells[styrning].count == 2
    assert regions["Fyrbodal"].cells[styrning].percent == pytest.approx(100 / 3)
    assert multiple_by_region.total.size == 12 and multiple_by_region.total.cells[it].count == 12
