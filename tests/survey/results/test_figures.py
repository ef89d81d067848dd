"""Per-question figures from the database, on SQLite and PostgreSQL: counts, shares, distributions,
means, medians (checked against percentile_cont) and NPS."""

from __future__ import annotations

import pytest

from services.survey.results.figures import question_results
from tests.survey.results_data import add_response, by_key, make_survey


def bar(result, key):
    return next(b for b in result.bars if b.key == key)


def test_choice_counts_percentages_and_other_texts(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)  # the figures; test_anonymity has the rule for few responses
        add_response(s, survey, {"delaktighet": "hog", "omraden": ["it", "styrning"]})
        add_response(s, survey, {"delaktighet": "hog", "omraden": ["it", "other"], "omraden.other": "Upphandling"})
        add_response(s, survey, {"delaktighet": "lag", "omraden": ["elevhalsa"]})
        add_response(s, survey, {"delaktighet": "lag"})
        add_response(s, survey, {"delaktighet": "mycket_hog"}, status="in_progress")
        results = by_key(question_results(s, survey))

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
            add_response(
                s,
                survey,
                {"information": value, "pastaenden.mandat": value, "ar": value if value != "dont_know" else "10"},
            )
        results = by_key(question_results(s, survey))

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
        nps = by_key(question_results(s, survey))["rekommendera"]

    assert nps.stats.median == pytest.approx(8.0)
    assert (nps.stats.promoters, nps.stats.detractors) == (3, 2)
    assert nps.stats.nps == pytest.approx(100 * (3 - 2) / 7)
    assert len(nps.bars) == 11


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
            add_response(
                s,
                survey,
                {"ar": str(rng.choice([0, 1, 1, 2, 3, 5, 8, 13, 15])), "rekommendera": str(rng.randint(0, 10))},
            )
        add_response(s, survey, {"rekommendera": "10"})  # 58 NPS answers, 57 numbers
        results = by_key(question_results(s, survey))
        for key in ("ar", "rekommendera"):
            values = sorted(s.scalars(select(Answer.number_value).where(Answer.question_key == key)))
            middle = len(values) // 2
            expected = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
            assert results[key].stats.median == pytest.approx(expected)
            if is_postgres(s):
                cont = s.scalar(
                    select(func.percentile_cont(0.5).within_group(Answer.number_value)).where(
                        Answer.question_key == key
                    )
                )
                assert results[key].stats.median == pytest.approx(cont)
