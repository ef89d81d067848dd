"""The results pages over HTTP, as an evaluator uses them: sign-in, figures, escaping of free text,
the small-group rule on screen, filters, and the export form with its real CSRF token."""

from __future__ import annotations

import re

import pytest

from services.survey import create_app
from shared.accounts import create_admin
from tests.survey.conftest import run_jobs
from tests.survey.results_data import add_response, make_survey

PASSWORD = "utvardera-2025"


@pytest.fixture
def app(config):
    return create_app(config)


def csrf_token(html: str) -> str:
    return re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def login(client, email="eva@gr.example"):
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def evaluator(db, app):
    with db.transaction() as s:
        create_admin(s, app.extensions["utskick"].passwords, "eva@gr.example", PASSWORD, "evaluator")
        create_admin(s, app.extensions["utskick"].passwords, "red@gr.example", PASSWORD, "editor")
        survey = make_survey(s)
        regions = {"GR": 12, "Fyrbodal": 7, "Skaraborg": 9, "Sjuhärad": 3}
        i = 0
        for region, n in regions.items():
            for _ in range(n):
                i += 1
                add_response(
                    s,
                    survey,
                    {
                        "delaktighet": ["mycket_hog", "hog", "lag"][i % 3],
                        "information": str(1 + i % 5),
                        "pastaenden.tid": str(1 + i % 5),
                        "rekommendera": str(i % 11),
                        "ar": str(i % 15),
                        "lardomar": f"<script>alert('x{i}')</script> lärdom {i}",
                    },
                    attributes={"delregion": region, "organisationstyp": "kommun", "roll": "IT-chef"},
                )
        survey_id = survey.id
    client = app.test_client()
    login(client)
    return client, survey_id


def test_pages_need_an_evaluator(db, app, evaluator):
    _client, survey_id = evaluator
    anonymous = app.test_client()
    response = anonymous.get(f"/admin/surveys/{survey_id}/results")
    assert response.status_code == 302 and "/admin/login" in response.location
    editor = app.test_client()
    token = csrf_token(editor.get("/admin/login").get_data(as_text=True))
    editor.post("/admin/login", data={"csrf_token": token, "email": "red@gr.example", "password": PASSWORD})
    assert editor.get(f"/admin/surveys/{survey_id}/results").status_code == 302


def test_results_page_shows_figures_charts_and_escaped_texts(evaluator):
    client, survey_id = evaluator
    html = client.get(f"/admin/surveys/{survey_id}/results").get_data(as_text=True)
    assert "31 inskickade svar" in html
    assert 'role="img" aria-labelledby="chart-delaktighet-title"' in html
    assert '<title id="chart-delaktighet-title">' in html
    assert "<script>alert" not in html
    assert re.search(r"<li>&lt;script&gt;alert\(&#39;x\d+&#39;\)&lt;/script&gt; lärdom \d+</li>", html)
    assert "Median" in html and "NPS" in html


def test_texts_page_searches_and_pages(evaluator):
    client, survey_id = evaluator
    html = client.get(f"/admin/surveys/{survey_id}/results/lardomar/texts?q=LÄRDOM 2").get_data(as_text=True)
    assert "11 svar innehåller" in html  # 2, 20–29
    assert "<script>" not in html
    page2 = client.get(f"/admin/surveys/{survey_id}/results/lardomar/texts?page=2").get_data(as_text=True)
    assert "Sida 2 av 2" in page2 and 'rel="prev"' in page2
    assert client.get(f"/admin/surveys/{survey_id}/results/delaktighet/texts").status_code == 404


def test_breakdown_hides_small_groups_on_screen(evaluator):
    client, survey_id = evaluator
    html = client.get(f"/admin/surveys/{survey_id}/results/breakdown?item=delaktighet&by=attr:delregion").get_data(
        as_text=True
    )
    sjuharad = re.search(r"<th scope=\"row\">Sjuhärad</th>(.*?)</tr>", html, re.S).group(1)
    assert "För få svar" in sjuharad and "num" not in sjuharad
    fyrbodal = re.search(r"<th scope=\"row\">Fyrbodal</th>(.*?)</tr>", html, re.S).group(1)
    assert "Döljs" in fyrbodal
    gr = re.search(r"<th scope=\"row\">GR</th>(.*?)</tr>", html, re.S).group(1)
    assert '<td class="num">12</td>' in gr


def test_breakdown_with_nonsense_parameters_is_a_friendly_page(evaluator):
    client, survey_id = evaluator
    response = client.get(f"/admin/surveys/{survey_id}/results/breakdown?item=lardomar&by=attr:email&filter=x")
    assert response.status_code == 200
    assert "Välj en fråga med svarsalternativ" in response.get_data(as_text=True)
    assert client.get("/admin/surveys/9999/results").status_code == 404


def test_filter_restricts_results_and_refuses_a_small_group(evaluator):
    client, survey_id = evaluator
    gr = client.get(f"/admin/surveys/{survey_id}/results?filter=delregion:GR").get_data(as_text=True)
    assert "12 inskickade svar" in gr and "Visar bara svar där delregion är GR" in gr
    small = client.get(f"/admin/surveys/{survey_id}/results?filter=delregion:Sjuhärad").get_data(as_text=True)
    assert "För få svar" in small and "inskickade svar" not in small


def test_dashboard_renders(evaluator):
    client, survey_id = evaluator
    html = client.get(f"/admin/surveys/{survey_id}/results/dashboard").get_data(as_text=True)
    assert "Svarsfrekvens" in html and "Inga inbjudningar har skickats ännu." in html


def test_export_form_with_csrf_makes_the_file_in_a_job(db, config, evaluator):
    client, survey_id = evaluator
    form = client.get(f"/admin/surveys/{survey_id}/results/export").get_data(as_text=True)
    assert "e-postadress och namn" not in form  # anonymous survey: no identity choice
    token = csrf_token(form)
    response = client.post(
        f"/admin/surveys/{survey_id}/results/export",
        data={"csrf_token": token, "format": "csv", "separator": "semicolon", "values": "codes"},
    )
    assert response.status_code == 302 and "/admin/jobs/" in response.location  # never built inside the request
    run_jobs(db, config)
    page = client.get(response.location).get_data(as_text=True)
    assert "31 svar exporterade." in page
    link = re.search(r'href="(/admin/jobs/\d+/files/\d+)" download>enkat-\d+-svar\.csv<', page).group(1)
    download = client.get(link)
    assert download.headers["Content-Disposition"].endswith('.csv"')
    body = download.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    assert len(body.decode("utf-8-sig").strip().split("\r\n")) == 32
    spss = client.post(
        f"/admin/surveys/{survey_id}/results/export",
        data={"csrf_token": token, "format": "spss", "separator": "comma", "values": "codes"},
    )
    run_jobs(db, config)
    names = re.findall(r"download>(enkat-\d+-svar\.\w+)<", client.get(spss.location).get_data(as_text=True))
    assert sorted(names) == [f"enkat-{survey_id}-svar.csv", f"enkat-{survey_id}-svar.sps"]
    forged = client.post(
        f"/admin/surveys/{survey_id}/results/export", data={"format": "csv", "separator": "comma", "values": "codes"}
    )
    assert forged.status_code == 400
    wrong = client.post(
        f"/admin/surveys/{survey_id}/results/export",
        data={"csrf_token": token, "format": "pdf", "separator": "comma", "values": "codes"},
    )
    assert wrong.status_code == 400 and "error-summary" in wrong.get_data(as_text=True)


def test_a_survey_without_responses_has_friendly_pages(db, evaluator):
    client, _survey_id = evaluator
    with db.transaction() as s:
        empty, named = make_survey(s).id, make_survey(s, anonymous=False).id
    results = client.get(f"/admin/surveys/{empty}/results").get_data(as_text=True)
    assert "resultaten visas när minst 5 har svarat" in results and "5 till behövs" in results
    assert "Inga inskickade svar ännu." in client.get(f"/admin/surveys/{named}/results").get_data(as_text=True)
    table = client.get(f"/admin/surveys/{empty}/results/breakdown?item=delaktighet&by=attr:delregion")
    assert table.status_code == 200
    export = client.get(f"/admin/surveys/{empty}/results/export")
    assert export.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "results?filter=:",
        "results?filter=delregion:",
        "results?filter=email:x",
        "results?filter=delregion:%00",
        "results/lardomar/texts?page=abc&q=%25%25",
        "results/lardomar/texts?page=-4",
        "results/lardomar/texts?page=99999",
        "results/breakdown?item=pastaenden.&by=q:",
        "results/breakdown?item=pastaenden&by=q:pastaenden.tid",
        "results/breakdown?item=delaktighet&by=q:delaktighet",
        "results/breakdown?by=attr:delregion",
        "results/breakdown?item=omraden&by=q:pastaenden.mandat&filter=delregion:GR",
    ],
)
def test_odd_parameters_never_break_a_page(evaluator, query):
    client, survey_id = evaluator
    response = client.get(f"/admin/surveys/{survey_id}/{query}")
    assert response.status_code in (200, 404)
