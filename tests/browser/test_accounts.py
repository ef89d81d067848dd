"""Accounts in Chromium with axe-core: an admin invites a colleague, the colleague chooses a password
through the mailed link (on a phone-sized screen) and signs in; changing one's own password."""

from __future__ import annotations

import email as email_lib
import re
from email.policy import default

from sqlalchemy import select

from services.survey import create_app as create_survey
from shared.accounts import create_admin
from shared.models import OutboxMail
from tests.browser.conftest import assert_no_axe_violations
from tests.mailer.conftest import make_app

PASSWORD = "ett långt lösenord"


def sign_in(page, base, email, password):
    page.goto(base + "/admin/login")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()


def signed_in(page, live_server, app, email, role):
    """Serve ``app``, give it an account with ``role`` and sign in as it."""
    base = live_server(app)
    svc = app.extensions["utskick"]
    with svc.db.transaction() as session:
        create_admin(session, svc.passwords, email, PASSWORD, role)
    sign_in(page, base, email, PASSWORD)


def test_invite_choose_a_password_and_sign_in(page, browser, config, live_server):
    mailer = make_app(config, csrf=True)
    survey = create_survey(config)
    mailer_base, survey_base = live_server(mailer), live_server(survey)
    svc = mailer.extensions["utskick"]
    with svc.db.transaction() as session:
        create_admin(session, svc.passwords, "admin@vastkom.example", PASSWORD, "admin")

    sign_in(page, mailer_base, "admin@vastkom.example", PASSWORD)
    page.get_by_role("link", name="Konton").click()
    assert_no_axe_violations(page)
    page.get_by_label("E-postadress").fill("eva@vastkom.example")
    page.get_by_label("Roll").select_option("evaluator")
    page.get_by_role("button", name="Skicka inbjudan").click()
    assert "Inbjudan till eva@vastkom.example ligger i utkorgen" in page.get_by_role("status").first.inner_text()
    page.get_by_role("link", name="eva@vastkom.example").click()
    assert_no_axe_violations(page)

    with svc.db.sessions() as session:
        raw = session.scalar(select(OutboxMail.message).where(OutboxMail.recipient == "eva@vastkom.example"))
    text = email_lib.message_from_bytes(raw, policy=default).get_body(("plain",)).get_content()
    link = re.search(r"http://survey\.test(/admin/set-password/\S+)", text).group(1)

    phone = browser.new_context(locale="sv-SE", viewport={"width": 320, "height": 700})
    colleague = phone.new_page()
    colleague.goto(survey_base + link)
    assert_no_axe_violations(colleague)
    colleague.get_by_label("Nytt lösenord").fill("sommar2024!!")
    colleague.get_by_label("Samma lösenord igen").fill("sommar2024!!")
    colleague.get_by_role("button", name="Spara lösenordet").click()
    assert "de vanligaste lösenorden" in colleague.locator("#new-error").inner_text()
    assert_no_axe_violations(colleague)
    colleague.get_by_label("Nytt lösenord").fill("kaffe vid åsen i maj")
    colleague.get_by_label("Samma lösenord igen").fill("kaffe vid åsen i maj")
    colleague.get_by_role("button", name="Spara lösenordet").click()
    assert colleague.locator("h1").inner_text() == "Enkäter"  # signed in to the survey service
    assert colleague.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    phone.close()


def test_change_ones_own_password(page, config, live_server):
    signed_in(page, live_server, make_app(config, csrf=True), "red@vastkom.example", "editor")
    page.get_by_role("link", name="Byt lösenord").click()
    page.get_by_label("Nuvarande lösenord").fill("fel lösenord")
    page.get_by_label("Nytt lösenord").fill("kaffe vid åsen i maj")
    page.get_by_label("Samma lösenord igen").fill("kaffe vid åsen i maj")
    page.get_by_role("button", name="Byt lösenord").click()
    assert "stämmer inte" in page.locator("#current-error").inner_text()
    assert_no_axe_violations(page)
    page.get_by_label("Nuvarande lösenord").fill(PASSWORD)
    page.get_by_label("Nytt lösenord").fill("kaffe vid åsen i maj")
    page.get_by_label("Samma lösenord igen").fill("kaffe vid åsen i maj")
    page.get_by_role("button", name="Byt lösenord").click()
    assert "Lösenordet är bytt" in page.get_by_role("status").first.inner_text()
