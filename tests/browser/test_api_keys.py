"""API keys and the API reference in Chromium with axe-core: an editor creates a key with the
keyboard-usable form, sees it once, revokes it; the reference page reads well at 320 px."""

from __future__ import annotations

from services.survey import create_app as create_survey
from tests.browser.conftest import assert_no_axe_violations
from tests.browser.test_accounts import signed_in
from tests.mailer.conftest import make_app


def test_create_see_once_and_revoke_a_key(page, config, live_server):
    signed_in(page, live_server, make_app(config, csrf=True), "red@vastkom.example", "editor")
    page.get_by_role("link", name="API-nycklar").click()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Skapa nyckeln").click()  # nothing filled in
    assert "Välj minst en behörighet" in page.locator(".error-summary").inner_text()
    assert_no_axe_violations(page)
    page.get_by_label("Namn").fill("Intranätets anmälan")
    page.get_by_label("Nyhetsbrev: läsa och ändra, skicka (mailer:write)").check()
    page.get_by_role("button", name="Skapa nyckeln").click()
    secret = page.get_by_label("Nyckeln ”Intranätets anmälan”").input_value()
    assert secret.startswith("utk_")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Tillbaka till API-nycklarna").click()
    assert secret not in page.content()
    page.get_by_role("button", name="Återkalla Intranätets anmälan").click()
    assert "är återkallad" in page.get_by_role("status").inner_text()
    assert_no_axe_violations(page)


def test_the_reference_page_is_accessible_on_a_phone(browser, config, live_server):
    base = live_server(create_survey(config))
    context = browser.new_context(locale="sv-SE", viewport={"width": 320, "height": 700})
    phone = context.new_page()
    phone.goto(base + "/api/v1/docs")
    assert phone.locator("h1").inner_text() == "Utskick – enkäter, API"
    assert_no_axe_violations(phone)
    assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    context.close()
