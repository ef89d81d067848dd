"""Results figures from the database, on SQLite and PostgreSQL: counts, medians, NPS, breakdowns
with the small-group rule, filters, text search, and the response-rate dashboard."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.survey.results import queries
from services.survey.results.queries import Filter
from shared.models import Suppression
from shared.mail.outbox import enqueue
from tests.survey.results_data import DAY, add_participant, add_response, make_survey


def bar(result, key):
    return next(b for b in result.bars if b.key == key)


def by_key(results):
    return {r.question.key: r for r in results.questions}


@pytest.fixture
def app_ctx(config):
    # labels are translated, which needs a request context; the domain functions are otherwise plain.
    from services.survey import create_app

    app = create_app(config)
    with app.test_request_context():
        yield app


def test_choice_counts_percentages_and_other_texts(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        add_response(s, survey, {"delaktighet": "hog", "omraden": ["it", "styrning"]})
        add_response(s, survey, {"delaktighet": "hog", "omraden": ["it", "other"], "omraden.other": "Upphandling"})
        add_response(s, survey, {"delaktighet": "lag", "omraden": ["elevhalsa"]})
        add_response(s, survey, {"delaktighet": "lag"})
        add_response(s, survey, {"delaktighet": "mycket_hog"}, status="in_progress")
        results = by_key(queries.question_results(s, survey))

    assert results["delaktighet"].respondents == 4  # the response in progress is not counted
    assert bar(results["delaktighet"], "hog").count == 2
    assert bar(results["delaktighet"], "hog").percent == pytest.approx(50.0)
    assert bar(results["delaktighet"], "mycket_hog").count == 0
    omraden = results["omraden"]
    assert omraden.respondents == 3
    assert bar(omraden, "it").count == 2
    assert bar(omraden, "it").percent == pytest.approx(200 / 3)  # of respondents
    assert bar(omraden, "it").percent_of_answers == pytest.approx(40.0)  # 2 of 5 answers
    assert bar(omraden, "other").count == 1
    assert omraden.texts == ["Upphandling"]


def test_scale_mean_median_and_dont_know_apart(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        for value in ["1", "2", "4", "5", "dont_know", "dont_know"]:
            add_response(s, survey, {"information": value, "pastaenden.mandat": value, "ar": value if value != "dont_know" else "10"})
        results = by_key(queries.question_results(s, survey))

    info = results["information"]
    assert info.dont_know == 2
    assert info.stats.n == 4
    assert info.stats.mean == pytest.approx(3.0)
    assert info.stats.median == pytest.approx(3.0)  # even count: the mean of 2 and 4
    assert [b.count for b in info.bars] == [1, 1, 0, 1, 1]
    assert bar(info, "4").percent == pytest.approx(100 / 6)
    mandat = next(r for r in results["pastaenden"].rows if r.key == "mandat")
    assert (mandat.dont_know, mandat.stats.n, mandat.stats.median) == (2, 4, pytest.approx(3.0))
    ar = results["ar"].stats
    assert (ar.n, ar.min, ar.max, ar.median) == (6, 1, 10, pytest.approx(4.5))
    assert ar.mean == pytest.approx(32 / 6)


def test_median_of_odd_count_and_nps_score(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        for value in [10, 9, 9, 8, 7, 6, 0]:
            add_response(s, survey, {"rekommendera": str(value)})
        nps = by_key(queries.question_results(s, survey))["rekommendera"]

    assert nps.stats.median == pytest.approx(8.0)
    assert (nps.stats.promoters, nps.stats.detractors) == (3, 2)
    assert nps.stats.nps == pytest.approx(100 * (3 - 2) / 7)
    assert len(nps.bars) == 11


def test_text_answers_paginated_and_searchable(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        for i in range(30):
            add_response(s, survey, {"lardomar": f"Lärdom nummer {i}" + (" om 100% samverkan" if i % 10 == 0 else "")})
        page2 = queries.text_answers(s, survey, "lardomar", Filter(), None, 2)
        found = queries.text_answers(s, survey, "lardomar", Filter(), "100%", 1)
        nothing = queries.text_answers(s, survey, "lardomar", Filter(), "_", 1)

    assert (page2.total, page2.pages, len(page2.items)) == (30, 2, 5)
    assert found.total == 3  # the % is a literal character, not a wildcard
    assert nothing.total == 0


def make_regions(s, survey, sizes: dict[str, int]):
    for region, n in sizes.items():
        for i in range(n):
            add_response(
                s, survey,
                {"delaktighet": "hog" if i % 2 else "lag", "information": str(1 + i % 5)},
                attributes={"delregion": region, "organisationstyp": "kommun", "roll": "IT-chef"},
            )


def test_breakdown_by_attribute_counts_and_row_percentages(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        make_regions(s, survey, {"GR": 6, "Fyrbodal": 8})
        table = queries.breakdown(s, survey, "delaktighet", "attr:delregion")

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
        table = queries.breakdown(s, survey, "delaktighet", "attr:delregion")

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
        table = queries.breakdown(s, survey, "information", "attr:delregion")
    assert [g.label for g in table.groups if g.hidden] == ["Fyrbodal", "Sjuhärad"]
    assert not any(g.protects for g in table.groups)


def test_group_size_is_configurable(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, min_group_size=2)
        make_regions(s, survey, {"GR": 12, "Sjuhärad": 3})
        table = queries.breakdown(s, survey, "delaktighet", "attr:delregion")
    assert not any(g.hidden for g in table.groups)


def test_breakdown_by_another_question_and_by_matrix_row(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        for i in range(12):
            add_response(s, survey, {"delaktighet": "hog" if i < 6 else "lag", "omraden": ["it"] + (["elevhalsa"] if i < 9 else []),
                                     "pastaenden.tid": str(1 + i % 2)})
        table = queries.breakdown(s, survey, "omraden", "q:delaktighet")
        by_row = queries.breakdown(s, survey, "pastaenden.tid", "q:delaktighet")
        with pytest.raises(queries.BreakdownError):
            queries.breakdown(s, survey, "lardomar", "q:delaktighet")
        with pytest.raises(queries.BreakdownError):
            queries.breakdown(s, survey, "delaktighet", "attr:email")

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
            add_response(s, survey, {"delaktighet": "hog" if i % 2 else "lag", "omraden": chosen},
                         attributes={"delregion": "GR" if i < 6 else "Fyrbodal"})
        add_response(s, survey, {"delaktighet": "hog"}, attributes={"delregion": "GR"})  # no omraden
        by_multiple = queries.breakdown(s, survey, "delaktighet", "q:omraden")
        multiple_by_region = queries.breakdown(s, survey, "omraden", "attr:delregion")

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


def test_filter_restricts_every_figure_and_refuses_small_groups(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        make_regions(s, survey, {"GR": 6, "Fyrbodal": 8, "Sjuhärad": 3})
        gr = queries.question_results(s, survey, Filter("delregion", "GR"))
        small = queries.question_results(s, survey, Filter("delregion", "Sjuhärad"))
        values = queries.report_attribute_values(s, survey)

    assert gr.total == 6 and by_key(gr)["delaktighet"].respondents == 6
    assert small.hidden and small.questions == []
    assert values["delregion"] == ["Fyrbodal", "GR", "Sjuhärad"]


def test_filter_that_leaves_out_a_small_group_is_refused(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s)
        make_regions(s, survey, {"GR": 20, "Sjuhärad": 2})
        assert not queries.filter_allowed(s, survey, Filter("delregion", "GR"))


def test_dashboard_counts_rates_and_days(db, app_ctx, config):
    day1 = datetime(2025, 3, 3, 8, tzinfo=timezone.utc)
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        s.add(Suppression(email="studs@gr.example", reason="hard_bounce"))
        people = [
            ("a@gr.example", "GR", dict(invited_at=day1, started_at=day1, completed_at=day1 + timedelta(hours=2))),
            ("b@gr.example", "GR", dict(invited_at=day1, started_at=day1 + timedelta(days=1))),
            ("studs@gr.example", "GR", dict(invited_at=day1)),
            ("c@fyrbodal.example", "Fyrbodal", dict(invited_at=day1, declined_at=day1 + timedelta(days=1))),
            ("d@fyrbodal.example", "Fyrbodal", dict(invited_at=day1, completed_at=day1 + timedelta(days=3),
                                                    started_at=day1 + timedelta(days=3),
                                                    last_reminded_at=day1 + timedelta(days=2), reminders_sent=1)),
            ("e@fyrbodal.example", "Fyrbodal", dict()),
        ]
        for email, region, fields in people:
            add_participant(s, survey, email, attributes={"delregion": region, "roll": "IT-chef"}, **fields)
        enqueue(s, config, kind="survey_reminder", to_email="b@gr.example", subject="Påminnelse", text="x")
        board = queries.dashboard(s, survey.id)

    t = board.totals
    assert (t.participants, t.invited, t.started, t.completed, t.declined, t.bounced) == (6, 5, 3, 2, 1, 1)
    assert t.response_rate == pytest.approx(40.0)
    regions = {c.value: c for c in board.by_attribute["delregion"]}
    assert (regions["GR"].invited, regions["GR"].completed, regions["GR"].bounced) == (3, 1, 1)
    assert regions["Fyrbodal"].response_rate == pytest.approx(50.0)
    assert set(board.by_attribute) == {"delregion", "roll"}
    days = {d.day.isoformat(): d for d in board.days}
    assert days["2025-03-03"].invitation and days["2025-03-03"].completed == 1
    assert days["2025-03-04"].completed == 0  # quiet days are shown too
    assert days["2025-03-05"].reminder and days["2025-03-06"].completed == 1
    assert min(days) == "2025-03-03"


def test_median_from_the_distribution_equals_percentile_cont(db, app_ctx):
    """The median is computed from the value distribution on both databases; on PostgreSQL it must
    agree with percentile_cont over the raw answers (odd and even counts, repeated values)."""
    import random

    from sqlalchemy import func, select

    from shared.db import is_postgres
    from shared.models import Answer

    rng = random.Random(5)
    with db.transaction() as s:
        survey = make_survey(s)
        for _ in range(57):
            add_response(s, survey, {"ar": str(rng.choice([0, 1, 1, 2, 3, 5, 8, 13, 15])), "rekommendera": str(rng.randint(0, 10))})
        add_response(s, survey, {"rekommendera": "10"})  # 58 NPS answers, 57 numbers
        results = by_key(queries.question_results(s, survey))
        for key in ("ar", "rekommendera"):
            values = sorted(s.scalars(select(Answer.number_value).where(Answer.question_key == key)))
            middle = len(values) // 2
            expected = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
            assert results[key].stats.median == pytest.approx(expected)
            if is_postgres(s):
                cont = s.scalar(select(func.percentile_cont(0.5).within_group(Answer.number_value)).where(Answer.question_key == key))
                assert results[key].stats.median == pytest.approx(cont)
