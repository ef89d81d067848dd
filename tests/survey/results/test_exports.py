"""Exports: the columns an evaluator expects, codes or labels, Swedish characters intact, formula
neutralising in CSV and XLSX, identity only when asked and never for an anonymous survey."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from services.survey.results import exports
from services.survey.results.exports import ExportOptions, neutralise
from tests.survey.results_data import add_participant, add_response, make_survey

ANSWERS = {
    "delaktighet": "hog",
    "omraden": ["it", "other"],
    "omraden.other": '=HYPERLINK("http://evil.example")',
    "ar": "3",
    "information": "dont_know",
    "pastaenden.tydliga_mal": "4",
    "pastaenden.mandat": "dont_know",
    "rekommendera": "9",
    "lardomar": "Samverkan är svår – men värd det",
}
ATTRS = {"organisationstyp": "kommun", "delregion": "Sjuhärad", "roll": "@IT-chef"}


def read_csv(session, survey, **options) -> list[dict]:
    data = b"".join(exports.csv_chunks(session, survey, ExportOptions(**options)))
    assert data.startswith("\ufeff".encode())  # BOM: Excel reads UTF-8 then
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=options.get("separator", ",")))


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(value):
    assert neutralise(value) == "'" + value
    assert neutralise("Vanlig text") == "Vanlig text"
    assert neutralise(-3) == -3  # numbers are values, not formulas


def test_csv_one_row_per_complete_response_with_codes(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        add_response(s, survey, ANSWERS, attributes=ATTRS)
        add_response(s, survey, {"delaktighet": "lag"}, attributes=ATTRS, status="in_progress")
        rows = read_csv(s, survey, separator=";")
        with_partial = read_csv(s, survey, include_partial=True)

    assert len(rows) == 1 and len(with_partial) == 2
    row = rows[0]
    assert row["delaktighet"] == "hog"
    assert (row["omraden_it"], row["omraden_elevhalsa"], row["omraden_other"]) == ("1", "0", "1")
    assert row["omraden_other_text"] == '\'=HYPERLINK("http://evil.example")'
    assert row["roll"] == "'@IT-chef" and row["delregion"] == "Sjuhärad"
    assert row["information"] == "dont_know" and row["ar"] == "3"
    assert (row["pastaenden_tydliga_mal"], row["pastaenden_mandat"], row["pastaenden_tid"]) == ("4", "dont_know", "")
    assert row["lardomar"] == "Samverkan är svår – men värd det"
    assert "email" not in row
    assert {r["status"] for r in with_partial} == {"complete", "in_progress"}
    assert {r["datum"] for r in with_partial} == {"2025-03-10"}


def test_labels_instead_of_codes(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        add_response(s, survey, ANSWERS, attributes=ATTRS)
        row = read_csv(s, survey, labels=True)[0]
    assert row["I vilken utsträckning har du varit involverad i Program Millennium?"] == "I ganska hög grad"
    assert (
        row["Inom vilka områden har du deltagit? Välj alla som passar. – IT och teknisk infrastruktur"]
        == "IT och teknisk infrastruktur"
    )
    assert row["Hur väl har du fått information om programmets läge?"] == "Vet inte"


def test_identity_only_when_ticked_and_never_for_anonymous(db, app_ctx):
    with db.transaction() as s:
        named = make_survey(s, anonymous=False)
        person = add_participant(s, named, "asa.ostrom@gr.example", name="Åsa Öström")
        add_response(s, named, ANSWERS, attributes=ATTRS, participant=person)
        anonymous = make_survey(s)
        for i in range(5):
            other = add_participant(s, anonymous, f"b{i}@gr.example", name="B")
            add_response(s, anonymous, ANSWERS, attributes=ATTRS, participant=other)
        ticked = read_csv(s, named, include_identity=True)[0]
        unticked = read_csv(s, named)[0]
        anon = read_csv(s, anonymous, include_identity=True)[0]
    assert (ticked["email"], ticked["name"]) == ("asa.ostrom@gr.example", "Åsa Öström")
    assert "email" not in unticked and "name" not in unticked
    assert "email" not in anon and "B" not in anon.values()


def test_xlsx_rows_codebook_and_neutralised_cells(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        add_response(s, survey, ANSWERS, attributes=ATTRS)
        add_response(s, survey, {**ANSWERS, "lardomar": "Bra\x0bslut"}, attributes=ATTRS)
        buffer = io.BytesIO()
        exports.write_xlsx(s, survey, ExportOptions(format="xlsx"), buffer)

    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["Svar", "Kodbok"]
    sheet = book["Svar"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["id", "datum", "organisationstyp", "delregion", "roll"]
    assert sheet.max_row == 3
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["omraden_other_text"] == '\'=HYPERLINK("http://evil.example")'  # a text cell, not a formula
    assert sheet.cell(2, header.index("omraden_other_text") + 1).data_type == "s"
    assert row["roll"] == "'@IT-chef"
    assert row["ar"] == 3 and row["pastaenden_tydliga_mal"] == 4  # numbers stay numbers
    texts = {r[header.index("lardomar")] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert texts == {"Samverkan är svår – men värd det", "Braslut"}  # XML cannot hold \x0b
    codebook = [[c.value for c in r] for r in book["Kodbok"].iter_rows()]
    assert [
        "delaktighet",
        "I vilken utsträckning har du varit involverad i Program Millennium?",
        None,
        None,
    ] in codebook
    assert [None, None, "hog", "I ganska hög grad"] in codebook
    assert [None, None, "dont_know", "Vet inte"] in codebook


def test_the_date_column_is_the_swedish_day(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        add_response(s, survey, ANSWERS, completed_at=datetime(2025, 10, 25, 22, 30, tzinfo=UTC))
        row = read_csv(s, survey)[0]
    assert row["datum"] == "2025-10-26"  # 00:30 in Sweden (summer time, UTC+2)


def test_xlsx_with_labels_says_not_chosen_only_when_the_question_was_answered(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        add_response(s, survey, {**ANSWERS, "lardomar": "svarade"}, attributes=ATTRS)
        add_response(s, survey, {"delaktighet": "lag", "lardomar": "hoppade över"}, attributes=ATTRS)
        buffer = io.BytesIO()
        exports.write_xlsx(s, survey, ExportOptions(format="xlsx", labels=True), buffer)

    sheet = load_workbook(io.BytesIO(buffer.getvalue()))["Svar"]
    header = [c.value for c in sheet[1]]
    rows = {r[-1]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    prefix = "Inom vilka områden har du deltagit? Välj alla som passar. – "
    answered, skipped = rows["svarade"], rows["hoppade över"]
    assert answered[prefix + "IT och teknisk infrastruktur"] == "IT och teknisk infrastruktur"
    assert answered[prefix + "Elevhälsa"] == "Inte valt"  # answered, this option not chosen
    assert skipped[prefix + "Elevhälsa"] is None  # the question was not answered at all
