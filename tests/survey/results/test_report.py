"""The evaluation report: put together by an evaluator (questions, breakdowns, commentary, quotes,
response rate per group), its method section, the small-group rule, the PDF read back, the shared
link and its revocation, and ``utskick results report``."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from werkzeug.datastructures import MultiDict

from services.survey import create_app
from services.survey.results.dashboard import Counts
from services.survey.results.pdf import report_pdf
from services.survey.results.report import (
    build_report,
    create_report,
    default_report,
    quote_key,
    rate_rows,
    read_form,
    save_report,
)
from shared.accounts import create_admin
from shared.models import Report, Survey
from tests.survey.conftest import run_jobs
from tests.survey.results.test_admin import PASSWORD, csrf_token, login
from tests.survey.results_data import add_participant, add_response, make_survey

INVITED = datetime(2025, 3, 3, 8, tzinfo=UTC)
REGIONS = {"GR": 7, "Fyrbodal": 6, "Sjuhärad": 2}


def seed(s, *, anonymous: bool = True):
    """15 invited and answering (anonymous: 2 in Sjuhärad), with free texts from 7 of them."""
    survey = make_survey(s, anonymous=anonymous, opens_at=INVITED, closes_at=INVITED + timedelta(days=28))
    i = 0
    for region, n in REGIONS.items():
        for _ in range(n):
            i += 1
            attributes = {"delregion": region, "organisationstyp": "kommun", "roll": "IT-chef"}
            add_participant(
                s,
                survey,
                f"p{i}@{region.lower()}.example",
                invited_at=INVITED,
                completed_at=INVITED + timedelta(days=i % 10),
                reminders_sent=1 if i % 3 else 0,
                attributes=attributes,
            )
            values = {"delaktighet": ["mycket_hog", "hog", "lag"][i % 3], "pastaenden.tid": str(1 + i % 5)}
            if i <= 7:
                values["lardomar"] = f"Förankra tidigt i förvaltningen, säger nummer {i}"
            add_response(s, survey, values, attributes=attributes, completed_at=INVITED + timedelta(days=i % 10))
    return survey


def form(**fields) -> MultiDict:
    data = MultiDict({"title": "Utvärdering för styrgruppen", "introduction": "Det här är **inledningen**."})
    for key, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            data.add(key, v)
    return data


def test_the_report_shows_the_chosen_questions_with_breakdowns_commentary_and_quotes(db, app_ctx):
    with db.transaction() as s:
        survey = seed(s)
        report = create_report(s, survey, None)
        quote = "Förankra tidigt i förvaltningen, säger nummer 3"
        values, errors = read_form(
            s,
            survey,
            form(
                questions=["delaktighet", "lardomar", "pastaenden"],
                response_rate_by="delregion",
                **{
                    "breakdowns-delaktighet": ["attr:delregion", "q:pastaenden.tid", "attr:nonsense"],
                    "commentary-delaktighet": "Fler än hälften var *mycket* delaktiga.",
                    "quotes-lardomar": [quote_key(quote), "0000000000000000"],
                },
            ),
        )
        assert errors == []
        save_report(report, values)
        view = build_report(s, survey, report)

    assert [s.result.question.key for s in view.sections] == ["delaktighet", "pastaenden", "lardomar"]
    first = view.sections[0]
    assert "<em>mycket</em>" in first.commentary
    assert [b.table.by_label for b in first.breakdowns] == [
        "delregion",
        "Hur väl instämmer du i följande påståenden? – Jag fick tillräckligt med tid för uppdraget",
    ]  # the unknown grouping was dropped
    regions = {g.label: g for g in first.breakdowns[0].table.groups}
    assert regions["Sjuhärad"].hidden and not regions["GR"].hidden  # 2 < k
    lardomar = next(s for s in view.sections if s.result.question.key == "lardomar")
    assert lardomar.quotes == [quote]  # the unknown key was dropped
    assert view.method.invited == 15 and view.method.completed == 15 and view.method.reminders_sent == 10
    assert "Inget som visas eller exporteras pekar ut färre än 5" in view.method.rule
    rates = {r.label: r for r in view.rates}
    assert rates["GR"].counts.completed == 7 and "Sjuhärad" not in rates  # 2 invited: merged
    assert any(r.merged for r in view.rates)


def test_rate_rows_merge_small_groups_until_the_merged_row_has_k():
    groups = [Counts(invited=n, completed=n, value=v) for v, n in {"A": 20, "B": 6, "C": 3, "D": 2}.items()]
    rows = rate_rows(groups, 5)
    assert [r.label for r in rows[:-1]] == ["A", "B"]
    assert (rows[-1].counts.invited, rows[-1].merged) == (5, 2)  # C and D together
    small = rate_rows([Counts(invited=n, value=v) for v, n in {"A": 20, "B": 6, "C": 2}.items()], 5)
    assert [r.label for r in small[:-1]] == ["A"] and small[-1].counts.invited == 8  # B joins C, or C is known


def test_the_builder_refuses_a_missing_title_and_too_long_commentary_and_keeps_the_input(db, app_ctx):
    with db.transaction() as s:
        survey = seed(s)
        data = form(questions=["delaktighet"], **{"commentary-delaktighet": "x" * 20_001})
        data["title"] = " "
        values, errors = read_form(s, survey, data)
    assert {e[0] for e in errors} == {"title", "commentary-delaktighet"}
    assert values["sections"][0]["commentary"] == "x" * 20_001


@pytest.mark.parametrize("n", [1, 2, 4])
def test_below_k_the_report_shows_no_results_and_offers_no_quotes(db, app_ctx, n):
    with db.transaction() as s:
        survey = make_survey(s)
        for i in range(n):
            add_response(s, survey, {"delaktighet": "hog", "lardomar": f"Min egen text {i}"})
        view = build_report(s, survey, default_report(survey))
        _values, _errors = read_form(
            s, survey, form(questions=["lardomar"], **{"quotes-lardomar": quote_key("Min egen text 0")})
        )
    assert view.needed == 5 - n and view.sections == []
    assert _values["sections"][0]["quotes"] == []


def pdf_text(data: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split()), reader


def test_the_pdf_opens_tagged_with_charts_tables_and_swedish_characters(db, app_ctx):
    with db.transaction() as s:
        survey = seed(s)
        report = create_report(s, survey, None)
        values, _errors = read_form(
            s,
            survey,
            form(
                questions=["delaktighet", "pastaenden"],
                **{
                    "breakdowns-delaktighet": ["attr:delregion"],
                    "commentary-delaktighet": "Västra Götaland är störst.",
                },
            ),
        )
        save_report(report, values)
        data = report_pdf(s, survey, report)

    text, reader = pdf_text(data)
    assert data.startswith(b"%PDF-")
    assert "Utvärdering för styrgruppen" in text and "Västra Götaland är störst." in text  # å, ä, ö intact
    assert "I ganska hög grad" in text and "Svarsalternativ" in text  # the data table
    assert "För få svar" in text  # Sjuhärad's hidden group in the breakdown table
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]  # tagged
    assert root["/Lang"] == "sv"
    assert reader.metadata.title == "Utvärdering för styrgruppen"
    # The charts are in the page content as vector rectangles (bars), with their alternative text.
    content = b"".join(page.get_contents().get_data() for page in reader.pages)
    assert content.count(b" re") > 10


@pytest.fixture
def evaluator(db, config):
    app = create_app(config)
    with db.transaction() as s:
        create_admin(s, app.extensions["utskick"].passwords, "eva@gr.example", PASSWORD, "evaluator")
        survey_id = seed(s).id
    client = app.test_client()
    login(client)
    return app, client, survey_id


def test_an_evaluator_builds_shares_and_revokes_a_report(db, config, evaluator):
    app, client, survey_id = evaluator
    base = f"/admin/surveys/{survey_id}/results/reports"
    index = client.get(base).get_data(as_text=True)
    created = client.post(base, data={"csrf_token": csrf_token(index)})
    assert created.status_code == 302 and created.location.endswith("/edit")
    edit = client.get(created.location).get_data(as_text=True)
    assert 'name="quotes-lardomar"' in edit and "Förankra tidigt" in edit
    refused = client.post(created.location, data={"csrf_token": csrf_token(edit), "title": ""})
    assert refused.status_code == 400 and "Skriv en rubrik." in refused.get_data(as_text=True)
    saved = client.post(
        created.location,
        data=MultiDict(
            [
                ("csrf_token", csrf_token(edit)),
                ("title", "Rapport till styrgruppen"),
                ("introduction", "Programmet <script>x</script> utvärderades."),
                ("questions", "delaktighet"),
                ("breakdowns-delaktighet", "attr:delregion"),
                ("breakdowns-delaktighet", "q:pastaenden.tid"),
                ("commentary-delaktighet", "Tydligt **mönster**."),
            ]
        ),
    )
    assert saved.status_code == 302
    page = client.get(saved.location).get_data(as_text=True)
    assert "Rapport till styrgruppen" in page and "<strong>mönster</strong>" in page
    assert "&lt;script&gt;" in page and "<script>x" not in page
    assert page.count('class="crosstab"') == 2 and "Metod" in page

    shared = client.post(saved.location + "/share", data={"csrf_token": csrf_token(page), "action": "share"})
    page = client.get(shared.location).get_data(as_text=True)
    link = re.search(r'id="share-url">(http[^<]+)<', page).group(1)
    stranger = app.test_client()
    public = stranger.get(link.replace("http://localhost", ""))
    assert public.status_code == 200 and "Rapport till styrgruppen" in public.get_data(as_text=True)
    assert public.headers["X-Robots-Tag"] == "noindex" and "no-store" in public.headers["Cache-Control"]
    assert "Redigera" not in public.get_data(as_text=True)
    client.post(saved.location + "/share", data={"csrf_token": csrf_token(page), "action": "revoke"})
    assert stranger.get(link.replace("http://localhost", "")).status_code == 404
    assert stranger.get("/reports/not-a-token").status_code == 404

    made = client.post(saved.location + "/pdf", data={"csrf_token": csrf_token(page)})
    assert "/admin/jobs/" in made.location
    run_jobs(db, config)
    job_page = client.get(made.location).get_data(as_text=True)
    pdf_link = re.search(r'href="(/admin/jobs/\d+/files/\d+)" download>rapport-enkat-\d+-\d+\.pdf<', job_page).group(1)
    text, _reader = pdf_text(client.get(pdf_link).get_data())
    assert "Tydligt mönster." in text


def test_the_cli_writes_the_default_report_when_none_was_put_together(db, config, tmp_path, run):
    with db.transaction() as s:
        survey_id = seed(s).id
    out = tmp_path / "rapport.pdf"
    result = run("results", "report", str(survey_id), "--pdf", str(out))
    assert result.exit_code == 0, result.output
    text, _reader = pdf_text(out.read_bytes())
    assert "Rapport: Utvärdering av Program Millennium" in text
    assert "Vad är den viktigaste lärdomen inför kommunernas fortsatta vägval?" in text  # every question
    with db.sessions() as s:
        assert s.query(Report).count() == 0  # the default report is not stored


def test_without_pango_the_page_says_why_there_is_no_pdf(db, evaluator, monkeypatch):
    from services.survey.results import admin, pdf

    monkeypatch.setattr(admin, "pdf_available", lambda: False)
    monkeypatch.setattr(pdf, "pdf_available", lambda: False)
    _app, client, survey_id = evaluator
    with db.transaction() as s:
        report_id = create_report(s, s.get(Survey, survey_id), None).id
    url = f"/admin/surveys/{survey_id}/results/reports/{report_id}"
    page = client.get(url).get_data(as_text=True)
    assert "programbiblioteket Pango saknas" in page and "Skapa PDF" not in page
    refused = client.post(url + "/pdf", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 302 and refused.location.endswith(url)
    with pytest.raises(pdf.PdfUnavailable, match="Pango"):
        pdf.render_pdf("<html></html>")
