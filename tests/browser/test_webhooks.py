"""The Webhooks page in Chromium with axe-core: an editor adds a webhook with the keyboard-usable
form (an address inside is refused beside its field), sees the secret once, disables it and opens
its deliveries; in the survey service the count field with its error; no page has axe violations."""

from __future__ import annotations

from services.survey import create_app as create_survey
from tests.browser.conftest import assert_no_axe_violations
from tests.browser.test_accounts import signed_in
from tests.mailer.conftest import make_app


def test_add_see_the_secret_once_disable_and_read_deliveries(page, config, live_server):
    signed_in(page, live_server, make_app(config, csrf=True), "red@vastkom.example", "editor")
    page.get_by_role("link", name="Webhooks").click()
    assert_no_axe_violations(page)
    page.get_by_label("Adress (URL)").fill("https://127.0.0.1/hook")
    page.get_by_label("Studs (bounce)").check()
    page.get_by_role("button", name="Lägg till webhooken").click()
    assert "intern adress" in page.locator(".error-summary").inner_text()
    assert_no_axe_violations(page)
    page.get_by_label("Adress (URL)").fill("https://192.0.43.10/hook")
    page.get_by_role("button", name="Lägg till webhooken").click()
    secret = page.get_by_label("Hemligheten för https://192.0.43.10/hook").input_value()
    assert secret.startswith("whsec_")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Tillbaka till webhooks").click()
    assert secret not in page.content()
    page.get_by_role("button", name="Stäng av https://192.0.43.10/hook").click()
    assert "är avstängd" in page.get_by_role("status").inner_text()
    assert_no_axe_violations(page)
    page.get_by_role("link", name="https://192.0.43.10/hook (leveranser)").click()
    assert "Inga leveranser ännu" in page.content()
    assert_no_axe_violations(page)


def test_the_survey_services_page_with_the_response_count(page, config, live_server):
    signed_in(page, live_server, create_survey(config), "eva@vastkom.example", "evaluator")
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Adress (URL)").fill("https://192.0.43.10/hook")
    page.get_by_label("Enkäten har nått ett antal svar (survey.responses_reached)").check()
    page.get_by_role("button", name="Lägg till webhooken").click()
    assert "response_count" in page.locator(".error-summary").inner_text()
    assert_no_axe_violations(page)
    page.get_by_label("Vid antal svar").fill("100")
    page.get_by_role("button", name="Lägg till webhooken").click()
    assert page.get_by_label("Hemligheten för https://192.0.43.10/hook").input_value().startswith("whsec_")
    assert_no_axe_violations(page)
