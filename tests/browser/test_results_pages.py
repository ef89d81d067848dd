"""The results pages in Chromium: an evaluator signs in through the form, reads the dashboard, the
results with charts, the free texts, a breakdown by delregion with a hidden small group, and the
export page — axe-core finds no violations on any of them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from services.survey import create_app
from shared.accounts import create_admin
from tests.browser.conftest import assert_no_axe_violations
from tests.survey.conftest import run_jobs
from tests.survey.results_data import add_participant, add_response, make_survey

PASSWORD = "utvardera-2025"


def seed(db, passwords) -> int:
    start = datetime(2025, 3, 3, 8, tzinfo=UTC)
    with db.transaction() as s:
        create_admin(s, passwords, "eva@gr.example", PASSWORD, "evaluator")
        survey = make_survey(s)
        i = 0
        for region, n in {"GR": 12, "Fyrbodal": 7, "Skaraborg": 9, "Sjuhärad": 3}.items():
            for _ in range(n):
                i += 1
                done = start + timedelta(days=i % 9)
                add_participant(
                    s,
                    survey,
                    f"p{i}@{region.lower()}.example",
                    invited_at=start,
                    started_at=done,
                    completed_at=done,
                    last_reminded_at=start + timedelta(days=7) if i % 4 else None,
                    attributes={"delregion": region, "organisationstyp": "kommun", "roll": "IT-chef"},
                )
                add_response(
                    s,
                    survey,
                    {
                        "delaktighet": ["mycket_hog", "hog", "lag"][i % 3],
                        "omraden": ["it", "other"],
                        "omraden.other": f"<em>Annat {i}</em>",
                        "ar": str(i % 15),
                        "information": str(1 + i % 5),
                        "pastaenden.tydliga_mal": str(1 + i % 5),
                        "pastaenden.mandat": "dont_know" if i % 7 == 0 else "3",
                        "pastaenden.samverkan_vgr": "4",
                        "pastaenden.tid": str(1 + (i * 3) % 5),
                        "paus_paverkan": str(1 + i % 5),
                        "rekommendera": str(i % 11),
                        "lardomar": f"<script>alert({i})</script>Lärdom nummer {i}",
                    },
                    attributes={"delregion": region, "organisationstyp": "kommun", "roll": "IT-chef"},
                    completed_at=done,
                )
        return survey.id


def test_results_pages_are_accessible(page, live_server, config, db, passwords):
    survey_id = seed(db, passwords)
    base = live_server(create_app(config))
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    prefix = f"{base}/admin/surveys/{survey_id}/results"

    page.goto(prefix + "/dashboard")  # redirected to the sign-in form
    page.get_by_label("E-postadress").fill("eva@gr.example")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(prefix + "/dashboard")
    # An anonymous survey: completions per week or longer, never per day.
    assert page.get_by_role("heading", name="Besvarade per period").is_visible()
    assert page.get_by_role("img", name="Antal besvarade enkäter per period").is_visible()
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Resultat", exact=True).click()
    expect(page.get_by_text("31 inskickade svar")).to_be_visible()
    assert page.locator("svg[role=img]").count() >= 6
    shown = page.locator("section[aria-labelledby=q-lardomar] .free-texts li").first.inner_text()
    assert re.fullmatch(r"<script>alert\(\d+\)</script>Lärdom nummer \d+", shown)  # shown as text, not run
    assert dialogs == []
    assert_no_axe_violations(page)

    page.get_by_label("Visa svar från").select_option("delregion:GR")
    page.get_by_role("button", name="Visa", exact=True).click()
    expect(page.get_by_text("12 inskickade svar")).to_be_visible()
    assert_no_axe_violations(page)

    page.goto(prefix + "/lardomar/texts")
    page.get_by_label("Sök i svaren").fill("nummer 2")
    page.get_by_role("button", name="Sök").click()
    expect(page.get_by_text("11 svar innehåller")).to_be_visible()
    assert_no_axe_violations(page)

    page.goto(prefix + "/breakdown")
    page.get_by_label("Fråga", exact=True).select_option("delaktighet")
    page.get_by_label("Dela upp efter").select_option("attr:delregion")
    page.get_by_role("button", name="Visa tabell").click()
    expect(page.get_by_role("row", name="Sjuhärad För få svar")).to_be_visible()
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Exportera svar").click()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Skapa filen").click()  # a job: the file is made by the worker
    page.wait_for_url(re.compile(r"/admin/jobs/\d+$"))
    run_jobs(db, config)
    link = page.get_by_role("link", name=re.compile(r"enkat-\d+-svar\.xlsx"))
    expect(link).to_be_visible(timeout=15_000)  # the page reloads itself when the job is done
    assert_no_axe_violations(page)
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".xlsx")
