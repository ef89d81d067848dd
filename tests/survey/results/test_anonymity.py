"""The small-group rule of an anonymous survey, on every page and in every file: surveys with 1, 2,
k−1 and k respondents (k = 5), dates coarsened into periods, rare attribute combinations merged."""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from services.survey import create_app
from services.survey.results import exports
from services.survey.results.anonymity import MERGED, merge_small_combinations, periods
from services.survey.results.dashboard import dashboard
from services.survey.results.exports import ExportOptions, TooFewResponses
from shared.accounts import create_admin
from shared.models import Survey
from tests.survey.results.test_admin import PASSWORD, login
from tests.survey.results_data import add_participant, add_response, make_survey

K = 5
MONDAY = datetime(2025, 3, 3, tzinfo=UTC)  # an anonymous survey keeps midnight UTC of the day
SOCIAL_CHIEF = {"organisationstyp": "kommun", "delregion": "GR", "roll": "Socialchef"}
IT_CHIEF = {"organisationstyp": "kommun", "delregion": "GR", "roll": "IT-chef"}


def answered(s, survey, n: int, *, spread_days: bool = True) -> None:
    """``n`` complete responses; the first from the only Socialchef, each with a free text, one a day."""
    for i in range(n):
        add_response(
            s,
            survey,
            {"delaktighet": "hog", "information": "4", "lardomar": f"Min egen lärdom nummer {i}"},
            attributes=SOCIAL_CHIEF if i == 0 else IT_CHIEF,
            completed_at=MONDAY + timedelta(days=i if spread_days else 0),
        )


@pytest.fixture
def app(config):
    return create_app(config)


@pytest.fixture
def client(db, app):
    with db.transaction() as s:
        create_admin(s, app.extensions["utskick"].passwords, "eva@gr.example", PASSWORD, "evaluator")
    client = app.test_client()
    login(client)
    return client


def csv_rows(s, survey) -> list[dict]:
    data = b"".join(exports.csv_chunks(s, survey, ExportOptions())).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(data)))


@pytest.mark.parametrize("n", [1, 2, K - 1])
def test_below_k_respondents_nothing_is_shown_or_exported(db, app, client, n):
    with db.transaction() as s:
        survey = make_survey(s)
        answered(s, survey, n)
        survey_id = survey.id
    base = f"/admin/surveys/{survey_id}/results"
    pages = {
        "results": client.get(base).get_data(as_text=True),
        "texts": client.get(f"{base}/lardomar/texts").get_data(as_text=True),
        "breakdown": client.get(f"{base}/breakdown?item=delaktighet&by=attr:roll").get_data(as_text=True),
        "export": client.get(f"{base}/export").get_data(as_text=True),
    }
    assert 'name="format"' not in pages["export"]  # no export to start
    for name, html in pages.items():
        assert f"{K - n} till behövs" in html, name
        assert "Min egen lärdom" not in html, name
        assert "Socialchef" not in html, name  # neither as a figure nor in the filter menu
        assert "I ganska hög grad" not in html or name == "breakdown", name  # the question menu lists options
    assert 'id="filter"' not in pages["results"]
    with app.test_request_context(), db.sessions() as s:
        with pytest.raises(TooFewResponses) as refused:
            csv_rows(s, survey)
        assert refused.value.needed == K - n
        with pytest.raises(TooFewResponses):
            exports.write_xlsx(s, survey, ExportOptions(format="xlsx"), io.BytesIO())


def test_at_k_respondents_results_appear_but_not_the_lone_group(db, app, client):
    with db.transaction() as s:
        survey = make_survey(s)
        answered(s, survey, K)
        survey_id = survey.id
    base = f"/admin/surveys/{survey_id}/results"
    html = client.get(base).get_data(as_text=True)
    assert "5 inskickade svar" in html and "Min egen lärdom nummer 0" in html
    menu = re.search(r'<select id="filter".*?</select>', html, re.S)
    # roll: 1 Socialchef, 4 IT-chef — neither value may be picked (one picks her, the other leaves her out)
    assert menu is None or ("Socialchef" not in menu.group(0) and "IT-chef" not in menu.group(0))
    refused = client.get(f"{base}?filter=roll:Socialchef").get_data(as_text=True)
    assert "För få svar" in refused and "Min egen lärdom" not in refused
    table = client.get(f"{base}/breakdown?item=delaktighet&by=attr:roll").get_data(as_text=True)
    assert "För få svar" in table
    texts = client.get(f"{base}/lardomar/texts").get_data(as_text=True)
    assert texts.count("Min egen lärdom") == K


def test_free_texts_come_only_in_sets_of_k(db, app, client):
    with db.transaction() as s:
        survey = make_survey(s)
        answered(s, survey, K + 3)
        # Only two of the eight wrote a text under "Annat": too few to show, even with the survey above k.
        for i in range(2):
            add_response(
                s, survey, {"omraden": ["other"], "omraden.other": f"Mitt eget område {i}"}, attributes=IT_CHIEF
            )
        survey_id = survey.id
    base = f"/admin/surveys/{survey_id}/results"
    html = client.get(base).get_data(as_text=True)
    assert "Mitt eget område" not in html and "Fritextsvar visas bara när minst 5 har skrivit något" in html
    texts = client.get(f"{base}/omraden/texts").get_data(as_text=True)
    assert "Mitt eget område" not in texts and "minst 5 har skrivit något" in texts
    assert client.get(f"{base}/lardomar/texts").get_data(as_text=True).count("Min egen lärdom") == K + 3


def test_export_dates_are_periods_of_k_and_rare_combinations_are_merged(db, app):
    with app.test_request_context(), db.transaction() as s:
        survey = make_survey(s)
        answered(s, survey, K)  # Monday to Friday of one week
        # The next week: one response on its own (a Sunday), so its week is merged with the first.
        add_response(s, survey, {"delaktighet": "lag"}, attributes=IT_CHIEF, completed_at=MONDAY + timedelta(days=13))
        rows = csv_rows(s, survey)
        buffer = io.BytesIO()
        exports.write_xlsx(s, survey, ExportOptions(format="xlsx", labels=True), buffer)

    assert len(rows) == K + 1
    assert {r["datum"] for r in rows} == {"2025-03-03–2025-03-16"}  # two weeks: no day, no lone week
    # A merged role beside five IT-chefs would still be hers: the role is merged for all six.
    assert [r["roll"] for r in rows] == [MERGED] * (K + 1)
    assert {r["delregion"] for r in rows} == {"GR"}  # what every row shares stays
    combos: dict[tuple, int] = {}
    for r in rows:
        key = (r["datum"], r["organisationstyp"], r["delregion"], r["roll"])
        combos[key] = combos.get(key, 0) + 1
    assert all(n >= K for n in combos.values())
    assert "Min egen lärdom nummer 0" in {r["lardomar"] for r in rows}  # her text, no longer beside her role
    codebook = [" ".join(str(c) for c in r if c) for r in load_workbook(buffer)["Kodbok"].iter_rows(values_only=True)]
    assert any("(i 6 svar)" in line for line in codebook)
    assert any("varje period har minst 5 svar" in line for line in codebook)


def test_a_lone_combination_with_nothing_to_merge_into_pulls_in_the_smallest_group():
    counts = {("v1", "GR", "IT"): 6, ("v1", "GR", "MAS"): 5, ("v1", "Fyrbodal", "Socialchef"): 1}
    shown, merged = merge_small_combinations(counts, K)
    sizes: dict[tuple, int] = {}
    for original, published in shown.items():
        sizes[published] = sizes.get(published, 0) + counts[original]
    assert all(n >= K for n in sizes.values())
    assert shown[("v1", "Fyrbodal", "Socialchef")] != ("v1", "Fyrbodal", "Socialchef")
    assert merged == sum(counts[c] for c, p in shown.items() if p != c)


def test_periods_hold_no_completion_or_at_least_k():
    per_day = {date(2025, 3, 3): 4, date(2025, 3, 11): 1, date(2025, 3, 19): 7, date(2025, 3, 30): 2}
    found = periods(per_day, K, last=date(2025, 4, 13))
    assert all(p.completed == 0 or p.completed >= K for p in found)
    assert sum(p.completed for p in found) == 14
    assert found[-1].completed == 0  # quiet weeks after the last answer stay weeks
    assert all(a.end + timedelta(days=1) == b.start for a, b in itertools.pairwise(found))


def test_dashboard_and_participant_page_show_no_day_of_an_anonymous_answer(db, app, client):
    with db.transaction() as s:
        survey = make_survey(s)
        person = add_participant(
            s, survey, "soc@gr.example", invited_at=MONDAY, completed_at=MONDAY + timedelta(days=5)
        )
        for i in range(3):
            add_participant(s, survey, f"it{i}@gr.example", invited_at=MONDAY, completed_at=MONDAY + timedelta(days=i))
        survey_id, person_id = survey.id, person.id
        board = dashboard(s, survey_id, k=K)
    assert board.days == [] and board.days_withheld  # 4 completions: no date can be shown
    html = client.get(f"/admin/surveys/{survey_id}/results/dashboard").get_data(as_text=True)
    assert "Visas när minst 5 har svarat" in html and "2025-03-08" not in html
    with db.transaction() as s:
        add_participant(s, s.get(Survey, survey_id), "mas@gr.example", invited_at=MONDAY, completed_at=MONDAY)
        board = dashboard(s, survey_id, k=K)
    assert board.days and all(d.completed == 0 or d.completed >= K for d in board.days)
    assert sum(d.completed for d in board.days) == 5
    html = client.get(f"/admin/surveys/{survey_id}/results/dashboard").get_data(as_text=True)
    assert "Besvarade per period" in html and "2025-03-08" not in html
    with db.transaction() as s:
        create_admin(s, app.extensions["utskick"].passwords, "admin@gr.example", PASSWORD, "admin")
    admin = app.test_client()
    login(admin, "admin@gr.example")
    page = admin.get(f"/admin/surveys/{survey_id}/participants/{person_id}").get_data(as_text=True)
    assert "Har svarat: ja" in page and "2025-03-08" not in page
