"""The survey builder, sending and mail texts in Chromium, as a new evaluator uses them: start a
blank survey, add pages, questions of several types, options and a condition, see an error in plain
Swedish, look at the versions, preview at phone width, write the mail texts with the placeholder
buttons, send invitations after the confirmation page and watch the job — axe-core finds no
violations on any page, at 320 px too, and the builder works with JavaScript off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.survey import create_app
from services.survey.participants.domain import import_participants_csv
from services.survey.surveys.domain import open_survey
from services.survey.surveys.questions import QuestionType
from shared.accounts import create_admin
from shared.models import Survey
from tests.browser.conftest import assert_no_axe_violations
from tests.survey.conftest import millennium, run_jobs, token_of

PASSWORD = "bygg-enkater-2026"


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/admin/surveys/new")
    page.get_by_label("E-postadress").fill("eva@vastkom.example")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/admin/surveys/new")


def add_question(page, page_number: int, type_label: str) -> None:
    box = page.get_by_role("group", name=f"Lägg till en fråga på sida {page_number}")
    box.get_by_label(type_label, exact=True).check()
    box.get_by_role("button", name="Lägg till frågan").click()


def drag(page, handle, target) -> None:
    """Drag by the handle onto the upper half of ``target`` the way a hand does, in small steps."""
    handle.hover()
    start, end = handle.bounding_box(), target.bounding_box()
    assert start and end
    page.mouse.down()
    page.mouse.move(start["x"] + 5, start["y"] - 20, steps=5)
    page.mouse.move(end["x"] + 20, end["y"] + 5, steps=10)
    page.mouse.up()


def test_build_a_survey_in_the_browser(page, live_server, config, db, passwords):
    with db.transaction() as s:
        create_admin(s, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
    base = live_server(create_app(config))
    sign_in(page, base)
    assert_no_axe_violations(page)
    page.get_by_label("Rubrik").fill("Brukarenkät 2027")
    page.get_by_label("En tom enkät").check()
    page.get_by_role("button", name="Skapa enkäten").click()
    expect(page.get_by_role("heading", name="Bygg enkäten")).to_be_visible()
    assert_no_axe_violations(page)

    add_question(page, 1, "Ett svar")
    builder, preview = page.locator("form.builder"), page.get_by_role("region", name="Förhandsvisning")
    builder.get_by_label("Frågetext").nth(1).fill("Hur nöjd är du?")
    builder.get_by_label("Alternativ 1", exact=True).fill("Nöjd")
    builder.get_by_label("Alternativ 2", exact=True).fill("Missnöjd")
    # The preview beside the form follows the typing, as the respondent will see it, before any save.
    expect(preview.get_by_role("group", name="Hur nöjd är du?").get_by_label("Missnöjd")).to_be_visible()
    box, panel = builder.bounding_box(), preview.bounding_box()
    assert box and panel and panel["x"] >= box["x"] + box["width"]  # side by side at desktop width
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Lägg till en sida").click()
    add_question(page, 2, "Matris")
    builder.get_by_label("Visa frågan").nth(2).select_option(label="Missnöjd")
    page.get_by_role("button", name="Spara ändringarna").first.click()
    expect(page.get_by_text("Ändringarna är sparade.")).to_be_visible()
    assert builder.get_by_label("Visa frågan").nth(2).input_value() == "hur_nojd_ar_du=missnojd"
    assert_no_axe_violations(page)

    # Drag and drop: the question dragged to the top is told politely and saved where it was dropped.
    page.set_viewport_size({"width": 1280, "height": 1600})  # both boxes in view: no scrolling mid-drag
    drag(
        page,
        builder.locator("#pages-0-questions-1 > legend > .drag-handle"),
        builder.locator("#pages-0-questions-0 > legend"),
    )
    expect(page.locator("#builder-status")).to_have_text("Fråga 2 flyttad till plats 1")
    expect(builder.locator(".builder-question legend").first).to_contain_text("Fråga 1: Hur nöjd är du?")
    options = builder.locator("#pages-0-questions-1-options li")
    drag(page, options.nth(1).locator("> .drag-handle"), options.nth(0))
    expect(page.locator("#builder-status")).to_have_text("Alternativ 2 flyttad till plats 1")
    page.get_by_role("button", name="Spara ändringarna").first.click()
    expect(page.get_by_text("Ändringarna är sparade.")).to_be_visible()
    with db.sessions() as s:
        keys = [q["key"] for q in s.query(Survey).one().definition["pages"][0]["questions"]]
        options = [o["key"] for o in s.query(Survey).one().definition["pages"][0]["questions"][0]["options"]]
    assert keys == ["hur_nojd_ar_du", "fraga_1"] and options == ["missnojd", "nojd"]

    # An error names the question in plain Swedish, next to the field and in the summary.
    builder.get_by_label("Frågetext").first.fill("")
    page.get_by_role("button", name="Spara ändringarna").first.click()
    expect(page.get_by_role("link", name="Fråga 1 på sida 1, frågetexten: saknas")).to_be_visible()
    assert_no_axe_violations(page)

    # At phone width nothing needs sideways scrolling.
    page.set_viewport_size({"width": 320, "height": 800})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="Tidigare versioner").first.click()
    expect(page.get_by_role("button", name="Återställ").first).to_be_visible()
    assert_no_axe_violations(page)

    # The full-page preview at phone width: the respondent's page in a 360 px frame.
    page.get_by_role("link", name="Bygg enkäten").click()
    page.get_by_role("link", name="Förhandsvisa i mobilbredd").click()
    frame = page.frame_locator("iframe.phone-preview")
    expect(frame.get_by_text("Hur nöjd är du?")).to_be_visible()
    assert frame.locator("html").evaluate("element => element.scrollWidth") <= 360
    assert_no_axe_violations(page)


def test_the_builder_works_without_javascript(browser, live_server, config, db, passwords):
    with db.transaction() as s:
        create_admin(s, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
    base = live_server(create_app(config))
    context = browser.new_context(locale="sv-SE", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, base)
        page.get_by_label("Mallen ”Utvärdering av Program Millennium”").check()
        page.get_by_role("button", name="Skapa enkäten").click()
        add_question(page, 1, "Kort text")
        expect(page.get_by_text("Ändringarna är sparade.")).to_be_visible()
        # "Förhandsgranska" shows the unsaved form beside itself, keeping what was typed.
        page.locator("#pages-0-questions-3-text").fill("Vad saknar du?")
        page.get_by_role("button", name="Förhandsgranska").first.click()
        preview = page.get_by_role("region", name="Förhandsvisning")
        expect(preview.get_by_label("Vad saknar du?")).to_be_visible()
        expect(page.locator("#pages-0-questions-3-text")).to_have_value("Vad saknar du?")
        page.get_by_role("button", name="Flytta ned").first.click()
        expect(page.get_by_text("Ändringarna är sparade.")).to_be_visible()
        with db.sessions() as s:
            survey = s.query(Survey).one()
            keys = [q["key"] for q in survey.definition["pages"][0]["questions"]]
        assert keys[:2] == ["omraden", "delaktighet"] and keys[-1] == "vad_saknar_du"
    finally:
        context.close()


def test_mail_texts_and_sending_with_confirmation(page, live_server, config, db, passwords):
    app = create_app(config)
    with db.transaction() as s:
        create_admin(s, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
    with app.test_request_context(), db.transaction() as s:
        from services.survey.surveys.domain import create_survey

        survey = create_survey(s, millennium())
        open_survey(s, survey)
        import_participants_csv(s, survey.id, "email,name\nanna@ale.example,Anna Ek\nbo@bor.example,Bo Ås\n")
        survey_id = survey.id
    base = live_server(app)
    sign_in(page, base)

    page.goto(f"{base}/admin/surveys/{survey_id}/settings")
    subject = page.get_by_label("Ämnesrad").first
    subject.fill("Dags att svara, ")
    subject.press("End")
    page.get_by_role("group", name="Ämnesrad: infoga platshållare").first.get_by_role(
        "button", name="{förnamn}"
    ).click()
    assert subject.input_value() == "Dags att svara, {förnamn}"
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("Inställningarna är sparade.")).to_be_visible()

    page.goto(f"{base}/admin/surveys/{survey_id}")
    page.get_by_role("link", name="Skicka inbjudningar (2)").click()
    expect(page.get_by_text("Mejlet går till 2 personer.")).to_be_visible()
    expect(page.get_by_text("Ämne: Dags att svara, Anna")).to_be_visible()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Skicka nu").click()
    page.wait_for_url(f"{base}/admin/jobs/*")
    # The bar says what it counts: mails written to the outbox, not yet delivered.
    expect(page.get_by_text("0 av 2 mejl skrivna till utkorgen")).to_be_visible()
    assert_no_axe_violations(page)
    run_jobs(db, config)
    expect(page.get_by_text("2 mejl lades i utkorgen.")).to_be_visible(timeout=15_000)


def test_every_new_question_type_is_accessible_to_respondents(page, live_server, config, db, passwords):
    from tests.survey.responses.test_question_types import PAGES, RANKING

    app = create_app(config)
    with db.transaction() as s:
        create_admin(s, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
    with app.test_request_context(), db.transaction() as s:
        from services.survey.surveys.domain import create_survey

        survey_id = create_survey(s, millennium(pages=PAGES + RANKING)).id
    base = live_server(app)
    sign_in(page, base)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{base}/admin/surveys/{survey_id}/preview")
    expect(page.get_by_label("Vilken kommun arbetar du i?")).to_be_visible()
    page.get_by_label("När började du?").fill("2025-03-31")
    page.get_by_label("Vilken kommun arbetar du i?").select_option(label="Ale")
    expect(page.get_by_label("Varför?")).to_be_visible()  # the condition, live
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Nästa").click()
    ranking = page.get_by_role("group", name="Vad är viktigast för er?")
    ranking.get_by_label("Tid").select_option("1")
    ranking.get_by_label("Pengar").select_option("1")
    ranking.get_by_label("Kompetens").select_option("2")
    page.get_by_role("button", name="Skicka in svaren").click()
    expect(page.get_by_text("Varje plats får bara användas en gång.").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_no_axe_violations(page)


def test_participant_import_and_add_pages(page, live_server, config, db, passwords, tmp_path):
    """The import and add-one pages of issue 9/10: their own pages, errors per field, a large file as a job."""
    app = create_app(config)
    with db.transaction() as s:
        create_admin(s, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
    with app.test_request_context(), db.transaction() as s:
        from services.survey.surveys.domain import create_survey

        survey_id = create_survey(s, millennium()).id
    base = live_server(app)
    sign_in(page, base)

    page.goto(f"{base}/admin/surveys/{survey_id}/participants")
    page.get_by_role("link", name="Lägg till en deltagare").click()
    page.get_by_label("Namn", exact=True).fill("Anna Ek")
    page.get_by_role("button", name="Lägg till").click()
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.get_by_label("Namn", exact=True)).to_have_value("Anna Ek")
    assert_no_axe_violations(page)

    page.goto(f"{base}/admin/surveys/{survey_id}/participants")
    page.get_by_role("link", name="Läs in deltagare från CSV").click()
    page.get_by_role("button", name="Läs in").click()
    expect(page.locator("#file-error")).to_have_text("Fel: Välj en CSV-fil att läsa in.")
    page.set_viewport_size({"width": 320, "height": 640})
    assert_no_axe_violations(page)
    big = tmp_path / "deltagare.csv"
    big.write_text("email,name\n" + "".join(f"p{n}@x.example,P {n}\n" for n in range(1500)) + "fel,X\n")
    page.get_by_label("CSV-fil").set_input_files(big)
    page.get_by_role("button", name="Läs in").click()
    page.wait_for_url(f"{base}/admin/jobs/*")
    run_jobs(db, config)
    expect(page.get_by_text("1500 nya deltagare")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("”fel” är inte en giltig e-postadress.")).to_be_visible()
    assert_no_axe_violations(page)


EVERY_TYPE = {
    1: ["Ett svar", "Ett svar i en lista", "Flera svar", "Informationstext"],
    2: ["Skala", "Matris", "Tal", "Rekommendation 0–10 (NPS)", "Datum"],
    3: ["Lång text", "Rangordning"],
}


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_done_when_build_copy_invite_remind_and_answer(
    browser, live_server, config, db, passwords, tmp_path, javascript
):
    """Issue 10's "Done when" in one go. Without JavaScript the site's own scripts are refused
    (rather than JavaScript switched off in Chromium), so that axe, which runs as a script, can check
    every page the evaluator and the respondent see."""
    with db.transaction() as s:
        create_admin(s, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
    base = live_server(create_app(config))
    context = browser.new_context(locale="sv-SE")
    context.set_default_timeout(10_000)
    if not javascript:
        context.route("**/*.js", lambda route: route.abort())
    page = context.new_page()
    try:
        sign_in(page, base)
        page.get_by_label("Rubrik").fill("Hela vägen")
        page.get_by_label("En tom enkät").check()
        page.get_by_role("button", name="Skapa enkäten").click()
        builder = page.locator("form.builder")
        survey_id = int(page.url.split("/")[-2])

        # Three pages with every question type, then texts and a condition chosen from the menu.
        page.get_by_role("button", name="Lägg till en sida").click()
        page.get_by_role("button", name="Lägg till en sida").click()
        for number, labels in EVERY_TYPE.items():
            for label in labels:
                add_question(page, number, label)
        assert builder.locator(".builder-page").count() == 3
        builder.locator("#pages-0-questions-1-text").fill("Hur nöjd är du?")
        builder.locator("#pages-2-questions-0-text").fill("Vad kan bli bättre?")
        page.get_by_role("button", name="Spara ändringarna").first.click()
        expect(page.get_by_text("Ändringarna är sparade.")).to_be_visible()
        builder.locator("#pages-2-questions-0-show_if").select_option("hur_nojd_ar_du=alternativ_2")
        page.get_by_role("button", name="Spara ändringarna").first.click()
        expect(page.get_by_text("Ändringarna är sparade.")).to_be_visible()
        with db.sessions() as s:
            kinds = {q["type"] for p in s.get(Survey, survey_id).definition["pages"] for q in p["questions"]}
        assert kinds == {kind.value for kind in QuestionType}
        assert_no_axe_violations(page)

        # The preview beside the builder, stacked under it at phone width; then the full-page one.
        page.set_viewport_size({"width": 320, "height": 800})
        page.get_by_role("button", name="Förhandsgranska").first.click()
        preview = page.get_by_role("region", name="Förhandsvisning")
        expect(preview.get_by_role("group", name="Hur nöjd är du?")).to_be_visible()
        assert preview.bounding_box()["y"] > builder.bounding_box()["y"] + builder.bounding_box()["height"] - 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert_no_axe_violations(page)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.get_by_role("link", name="Förhandsvisa i mobilbredd").click()
        expect(page.frame_locator("iframe.phone-preview").get_by_text("Hur nöjd är du?")).to_be_visible()
        assert_no_axe_violations(page)

        # A copy keeps the questions and gets no participants.
        page.goto(f"{base}/admin/surveys/{survey_id}")
        page.get_by_role("button", name="Kopiera enkäten").click()
        expect(page.get_by_role("heading", name="Bygg enkäten")).to_be_visible()
        expect(page.get_by_role("link", name="Kopia av Hela vägen")).to_be_visible()
        assert_no_axe_violations(page)

        # Participants, invitations after the confirmation page, the job's progress.
        people = tmp_path / "deltagare.csv"
        people.write_text("email,name\nanna@ale.example,Anna Ek\nbo@bor.example,Bo Ås\n")
        page.goto(f"{base}/admin/surveys/{survey_id}/participants")
        page.get_by_role("link", name="Läs in deltagare från CSV").click()
        assert_no_axe_violations(page)
        page.get_by_label("CSV-fil").set_input_files(people)
        page.get_by_role("button", name="Läs in").click()
        expect(page.get_by_text("2 nya deltagare")).to_be_visible()
        page.goto(f"{base}/admin/surveys/{survey_id}")
        page.get_by_role("button", name="Öppna enkäten för svar").click()
        page.get_by_role("link", name="Skicka inbjudningar (2)").click()
        expect(page.get_by_text("Mejlet går till 2 personer.")).to_be_visible()
        assert_no_axe_violations(page)
        page.get_by_role("button", name="Skicka nu").click()
        page.wait_for_url(f"{base}/admin/jobs/*")
        run_jobs(db, config)
        if not javascript:
            page.get_by_role("link", name="Uppdatera").click()
        expect(page.get_by_text("2 mejl lades i utkorgen.")).to_be_visible(timeout=15_000)
        assert_no_axe_violations(page)

        # Automatic reminders, and the survey page says what they are.
        page.goto(f"{base}/admin/surveys/{survey_id}/settings")
        page.get_by_label("Dagar efter inbjudan").fill("7, 14")
        page.get_by_label("Klockslag").fill("09:00")
        page.get_by_label("Bara vardagar").check()
        page.get_by_role("button", name="Spara").click()
        expect(page.get_by_text("Inställningarna är sparade.")).to_be_visible()
        page.goto(f"{base}/admin/surveys/{survey_id}")
        expect(page.get_by_text("7, 14 dagar efter inbjudan, kl. 09:00, bara vardagar.")).to_be_visible()
        assert_no_axe_violations(page)

        # A respondent answers all three pages; the follow-up shows for the answer it depends on.
        page.goto(f"{base}/s/{token_of(db, 'bo@bor.example')}")
        page.get_by_role("group", name="Hur nöjd är du?").get_by_label("Alternativ 2").check()
        assert_no_axe_violations(page)
        page.get_by_role("button", name="Nästa").click()
        expect(page.get_by_role("heading", name="Sida 2")).to_be_visible()
        assert_no_axe_violations(page)
        page.get_by_role("button", name="Nästa").click()
        page.get_by_label("Vad kan bli bättre?").fill("Fler exempel.")
        assert_no_axe_violations(page)
        page.get_by_role("button", name="Skicka in svaren").click()
        expect(page.get_by_role("heading", name="Tack för dina svar")).to_be_visible()
        assert_no_axe_violations(page)
    finally:
        context.close()
