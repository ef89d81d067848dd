"""The evaluation report in Chromium, as a new evaluator would make it: a report with two breakdowns
and commentary, its PDF downloaded and read back (charts' tables, Swedish characters), its link
shared and opened by someone not signed in, then revoked — axe-core finds no violations."""

from __future__ import annotations

import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from services.survey import create_app
from tests.browser.conftest import assert_no_axe_violations
from tests.browser.test_results_pages import PASSWORD, seed
from tests.survey.conftest import run_jobs


def test_an_evaluator_builds_downloads_and_shares_a_report(browser, page, live_server, config, db):
    app = create_app(config)
    survey_id = seed(db, app.extensions["utskick"].passwords)
    base = live_server(app)
    page.goto(f"{base}/admin/surveys/{survey_id}/results")
    page.get_by_label("E-postadress").fill("eva@gr.example")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()

    page.get_by_role("link", name="Rapporter").click()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Ny rapport").click()
    expect(page.get_by_role("heading", name="Redigera rapport")).to_be_visible()
    assert_no_axe_violations(page)

    page.get_by_label("Rubrik").fill("Rapport till styrgruppen – våren")
    page.get_by_label("Inledning").fill("Utvärderingen gjordes i **mars**. Här följer de viktigaste svaren.")
    page.get_by_label("Svarsfrekvens per grupp").select_option("delregion")
    first = page.locator("#question-delaktighet")
    first.get_by_label("Bakgrund: delregion").check()
    first.get_by_label(re.compile(r"Fråga: .*Jag fick tillräckligt med tid")).check()
    first.get_by_label("Kommentar (Markdown)").fill("Delaktigheten var störst i Göteborgsregionen.")
    texts = page.locator("#question-lardomar")
    texts.get_by_label(re.compile(r"Lärdom nummer 7$")).check()
    page.get_by_role("button", name="Spara rapporten").click()

    expect(page.get_by_role("heading", name="Rapport till styrgruppen – våren")).to_be_visible()
    expect(page.get_by_text("Delaktigheten var störst i Göteborgsregionen.")).to_be_visible()
    assert page.locator("table.crosstab").count() == 2
    expect(page.get_by_role("row", name=re.compile(r"^Sjuhärad För få svar"))).to_be_visible()
    expect(page.get_by_role("heading", name="Metod")).to_be_visible()
    expect(page.locator("blockquote").get_by_text(re.compile(r"Lärdom nummer 7$"))).to_be_visible()
    assert_no_axe_violations(page)
    report_url = page.url

    page.get_by_role("button", name="Skapa PDF").click()
    page.wait_for_url(re.compile(r"/admin/jobs/\d+$"))
    run_jobs(db, config)
    link = page.get_by_role("link", name=re.compile(r"rapport-enkat-\d+-\d+\.pdf"))
    expect(link).to_be_visible(timeout=15_000)
    assert_no_axe_violations(page)
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as pdf:
        reader = PdfReader(io.BytesIO(pdf.read()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Rapport till styrgruppen – våren" in text and "Göteborgsregionen" in text  # å, ä, ö intact
    assert "Svarsalternativ" in text and "För få svar" in text  # the charts' data tables
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged for screen readers

    page.goto(report_url)
    page.get_by_role("button", name="Skapa länk för delning").click()
    shared_url = page.locator("#share-url").inner_text()
    assert_no_axe_violations(page)

    stranger = browser.new_context(locale="sv-SE").new_page()
    stranger.goto(shared_url)
    expect(stranger.get_by_role("heading", name="Rapport till styrgruppen – våren")).to_be_visible()
    assert stranger.get_by_role("button", name="Redigera").count() == 0
    assert stranger.locator("svg[role=img]").count() >= 2
    assert_no_axe_violations(stranger)

    page.get_by_role("button", name="Ta bort länken").click()
    expect(page.get_by_role("button", name="Skapa länk för delning")).to_be_visible()
    assert stranger.goto(shared_url).status == 404
    stranger.context.close()
