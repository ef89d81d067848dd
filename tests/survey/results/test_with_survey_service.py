"""Results on data stored the way the survey service stores it: the fixture imported with
``import_survey_file`` and responses submitted with ``store_complete_response`` (the same layout the
other results tests write directly)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from services.survey.results import exports
from services.survey.results.breakdown import breakdown
from services.survey.results.figures import question_results
from tests.survey.results_data import FIXTURE


def test_results_and_export_of_submitted_responses(db, app_ctx):
    from services.survey.responses.storage import store_complete_response
    from services.survey.surveys.domain import import_survey_file

    answers = [
        (
            {
                "delaktighet": "hog",
                "omraden": ["it", "other"],
                "omraden.other": "Skola",
                "ar": "4",
                "information": "4",
                "pastaenden.tydliga_mal": "5",
                "pastaenden.mandat": "dont_know",
                "paus_paverkan": "5",
                "paus_beskrivning": "Allt stannade.",
                "rekommendera": "9",
                "lardomar": "Förankra tidigt.",
            },
            "GR",
        ),
        (
            {
                "delaktighet": "lag",
                "omraden": ["elevhalsa"],
                "information": "dont_know",
                "pastaenden.tydliga_mal": "2",
                "paus_paverkan": "2",
                "rekommendera": "3",
            },
            "Fyrbodal",
        ),
        ({"delaktighet": "hog", "information": "2", "paus_paverkan": "1", "rekommendera": "10"}, "GR"),
    ]
    with db.transaction() as s:
        survey = import_survey_file(s, FIXTURE)
        for values, region in answers:
            store_complete_response(
                s, survey, values, attributes={"organisationstyp": "kommun", "delregion": region, "roll": "MAS"}
            )
        # Stored as an anonymous survey stores them; read as a named one, since 3 responses with single
        # free texts are below what an anonymous survey shows (test_anonymity checks that rule).
        survey.anonymous = False
        results = {r.question.key: r for r in question_results(s, survey).questions}
        table = breakdown(s, survey, "delaktighet", "attr:delregion")
        buffer = io.BytesIO()
        exports.write_xlsx(s, survey, exports.ExportOptions(format="xlsx", labels=True), buffer)

    assert next(b for b in results["delaktighet"].bars if b.key == "hog").count == 2
    assert results["omraden"].respondents == 2 and results["omraden"].texts == ["Skola"]
    info = results["information"]
    assert (info.dont_know, info.stats.n, info.stats.median) == (1, 2, pytest.approx(3.0))
    assert results["rekommendera"].stats.nps == pytest.approx(100 * (2 - 1) / 3)
    assert results["paus_beskrivning"].text_count == 1
    assert all(g.hidden for g in table.groups)  # 2 and 1 responses: both under 5
    sheet = load_workbook(buffer)["Svar"]
    header = [c.value for c in sheet[1]]
    values = {r[header.index("delregion")]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert sheet.max_row == 4
    assert (
        values["Fyrbodal"][header.index("I vilken utsträckning har du varit involverad i Program Millennium?")]
        == "I ganska låg grad"
    )
