"""The question types added for the builder: ``dropdown`` (one option from a list, stored as
``single`` is), ``info`` (a text between questions, nothing to answer) and ``date`` (ÅÅÅÅ-MM-DD
within optional bounds; results by month): answering without JavaScript, results and exports."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from services.survey.results import exports
from services.survey.results.exports import ExportOptions
from services.survey.results.figures import question_results
from shared.models import Answer, Survey
from tests.survey.conftest import post, token_of

PAGES = [
    {
        "title": "Om dig",
        "questions": [
            {"key": "las_forst", "type": "info", "text": "Läs detta först.\n\nAndra stycket."},
            {
                "key": "kommun",
                "type": "dropdown",
                "text": "Vilken kommun arbetar du i?",
                "required": True,
                "other": True,
                "options": ["Ale", "Alingsås", "Borås"],
            },
            {"key": "varfor", "type": "text", "text": "Varför?", "show_if": {"question": "kommun", "equals": "ale"}},
            {"key": "start", "type": "date", "text": "När började du?", "min": "2020-01-01", "max": "2026-12-31"},
        ],
    }
]
PEOPLE = "email,name\r\nanna@ale.example,Anna Ek\r\nbo@bor.example,Bo Ås\r\n"


def test_dropdown_and_info_are_answered_and_stored(client, db, make_survey):
    make_survey(pages=PAGES, participants=PEOPLE, anonymous=False, report_attributes=[])
    token = token_of(db)
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "<p>Läs detta först.</p>" in html and "<p>Andra stycket.</p>" in html
    assert '<select id="q-kommun" name="kommun"' in html and '<option value="alingsas">Alingsås</option>' in html
    assert '<option value="other">Annat</option>' in html

    refused = post(client, token, {}, "submit")
    assert "Välj ett av alternativen." in refused.get_data(as_text=True)
    assert 'href="#q-kommun"' in refused.get_data(as_text=True)
    made_up = post(client, token, {"kommun": "goteborg"}, "submit")
    assert "Välj ett av alternativen i listan." in made_up.get_data(as_text=True)

    assert post(client, token, {"kommun": "ale", "varfor": "Nära"}, "submit").status_code == 303
    with db.sessions() as s:
        stored = s.execute(select(Answer.question_key, Answer.option_key, Answer.text_value)).all()
    assert sorted(stored, key=str) == sorted([("kommun", "ale", None), ("varfor", None, "Nära")], key=str)


def test_dropdown_in_results_and_exports_info_nowhere(app, evaluator, client, db, make_survey):
    survey_id = make_survey(pages=PAGES, participants=PEOPLE, anonymous=False, report_attributes=[])
    post(client, token_of(db, "anna@ale.example"), {"kommun": "ale", "varfor": "Nära"}, "submit")
    post(client, token_of(db, "bo@bor.example"), {"kommun": "other", "kommun.other": "Bollebygd"}, "submit")
    with app.test_request_context(), db.sessions() as s:
        survey = s.get(Survey, survey_id)
        results = question_results(s, survey)
        data = b"".join(exports.csv_chunks(s, survey, ExportOptions()))
    assert [r.question.key for r in results.questions] == ["kommun", "varfor", "start"]
    kommun = results.questions[0]
    assert {bar.label: bar.count for bar in kommun.bars}["Ale"] == 1 and kommun.other_count == 1
    rows = sorted(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))), key=lambda row: row["kommun"])
    assert [row["kommun"] for row in rows] == ["ale", "other"] and rows[1]["kommun_other_text"] == "Bollebygd"
    assert not any(name.startswith("las_forst") for name in rows[0])
    page = evaluator.get(f"/admin/surveys/{survey_id}/results").get_data(as_text=True)
    assert "Svar på frågan: Vilken kommun arbetar du i?" in page and "Läs detta först." not in page


def test_dates_are_checked_stored_and_counted_by_month(app, evaluator, client, db, make_survey):
    survey_id = make_survey(pages=PAGES, participants=PEOPLE, anonymous=False, report_attributes=[])
    anna, bo = token_of(db, "anna@ale.example"), token_of(db, "bo@bor.example")
    html = client.get(f"/s/{anna}").get_data(as_text=True)
    assert 'type="date" id="q-start" name="start" value="" min="2020-01-01" max="2026-12-31"' in html
    wrong = post(client, anna, {"kommun": "alingsas", "start": "31/3/2025"}, "submit").get_data(as_text=True)
    assert "Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-03-31." in wrong
    early = post(client, anna, {"kommun": "alingsas", "start": "2019-12-31"}, "submit").get_data(as_text=True)
    assert "Välj ett datum från 2020-01-01 till 2026-12-31." in early
    assert post(client, anna, {"kommun": "alingsas", "start": "2025-03-31"}, "submit").status_code == 303
    assert post(client, bo, {"kommun": "boras", "start": "2025-03-02"}, "submit").status_code == 303
    with app.test_request_context(), db.sessions() as s:
        survey = s.get(Survey, survey_id)
        start = next(r for r in question_results(s, survey).questions if r.question.key == "start")
        data = b"".join(exports.csv_chunks(s, survey, ExportOptions()))
    assert [(bar.label, bar.count) for bar in start.bars] == [("2025-03", 2)]
    assert sorted(row["start"] for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))) == [
        "2025-03-02",
        "2025-03-31",
    ]
    assert "Svar på frågan: När började du?" in evaluator.get(f"/admin/surveys/{survey_id}/results").get_data(
        as_text=True
    )


RANKING = [
    {
        "title": "Prioriteringar",
        "questions": [
            {
                "key": "viktigast",
                "type": "ranking",
                "text": "Vad är viktigast för er?",
                "required": True,
                "options": ["Tid", "Pengar", "Kompetens"],
            }
        ],
    }
]


def test_ranking_without_javascript_results_and_exports(app, evaluator, client, db, make_survey):
    survey_id = make_survey(pages=RANKING, participants=PEOPLE, anonymous=False, report_attributes=[])
    anna, bo = token_of(db, "anna@ale.example"), token_of(db, "bo@bor.example")
    html = client.get(f"/s/{anna}").get_data(as_text=True)
    assert '<select id="q-viktigast-tid" name="viktigast.tid"' in html and '<option value="3">3</option>' in html
    twice = post(client, anna, {"viktigast.tid": "1", "viktigast.pengar": "1", "viktigast.kompetens": "2"}, "submit")
    assert "Varje plats får bara användas en gång." in twice.get_data(as_text=True)
    part = post(client, anna, {"viktigast.tid": "1"}, "submit")
    assert "Ge varje alternativ en plats." in part.get_data(as_text=True)
    assert "Rangordna alternativen." in post(client, anna, {}, "submit").get_data(as_text=True)
    first = {"viktigast.tid": "1", "viktigast.pengar": "3", "viktigast.kompetens": "2"}
    assert post(client, anna, first, "submit").status_code == 303
    second = {"viktigast.tid": "2", "viktigast.pengar": "3", "viktigast.kompetens": "1"}
    assert post(client, bo, second, "submit").status_code == 303

    with app.test_request_context(), db.sessions() as s:
        survey = s.get(Survey, survey_id)
        result = question_results(s, survey).questions[0]
        data = b"".join(exports.csv_chunks(s, survey, ExportOptions()))
    means = {row.key: (row.stats.mean, row.bars[0].count) for row in result.rows}
    assert means == {"tid": (1.5, 1), "pengar": (3.0, 0), "kompetens": (1.5, 1)}
    assert [(bar.label, bar.percent) for bar in result.bars] == [("Tid", 50.0), ("Pengar", 0.0), ("Kompetens", 50.0)]
    rows = sorted(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))), key=lambda row: row["viktigast_tid"])
    assert [(r["viktigast_tid"], r["viktigast_pengar"], r["viktigast_kompetens"]) for r in rows] == [
        ("1", "3", "2"),
        ("2", "3", "1"),
    ]
    page = evaluator.get(f"/admin/surveys/{survey_id}/results").get_data(as_text=True)
    assert "Medelplats" in page and "Rangordning: Vad är viktigast för er?" in page
