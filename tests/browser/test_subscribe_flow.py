"""A reader in Chromium: subscribe → mail caught by a real SMTP server → confirm → stop, with axe-core
finding no accessibility violations on any public page on the way."""

from __future__ import annotations

import re

import pytest

from shared.config import parse_mail_url
from tests.browser.conftest import assert_no_axe_violations
from tests.mailer.conftest import mail_text, make_app, run_worker


@pytest.fixture
def mailer(config, smtp_server, live_server):
    """The mailer served on 127.0.0.1 sending to the SMTP sink, its links pointing at the live server."""
    app = make_app(config.with_(mail_url=parse_mail_url(smtp_server.url, config.var_dir)), csrf=True)
    base = live_server(app)
    # The URL is only known once the server listens; links in mails are built from this config.
    services = app.extensions["utskick"]
    services.config = services.config.with_(mailer_url=base)
    yield app, base
    services.db.dispose()


def link_in(message, kind: str) -> str:
    match = re.search(rf"http://127\.0\.0\.1:\d+/{kind}/[A-Za-z0-9_.\-]+", mail_text(message))
    assert match, mail_text(message)
    return match.group(0)


def test_subscribe_confirm_and_stop_in_a_browser(page, mailer, smtp_server):
    app, base = mailer

    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(base + "/subscribe")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert page.get_by_label("E-postadress").is_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.locator("html").get_attribute("lang") == "sv"
    assert_no_axe_violations(page)

    page.get_by_label("E-postadress").fill("inte-en-adress")
    page.get_by_role("button", name="Prenumerera").click()
    assert page.title().startswith("Fel:")
    assert page.get_by_label("E-postadress").input_value() == "inte-en-adress"
    assert page.get_by_label("E-postadress").get_attribute("aria-invalid") == "true"
    assert_no_axe_violations(page)

    page.get_by_label("E-postadress").fill("Sara.Lind@Kommun.Example")
    page.get_by_label("Namn (frivilligt)").fill("Sara Lind")
    page.get_by_role("button", name="Prenumerera").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Titta i din inkorg"
    assert_no_axe_violations(page)

    assert run_worker(app) == 1
    (received,) = smtp_server.wait_for(1)
    confirm_url, stop_url = link_in(received.message, "confirm"), link_in(received.message, "unsubscribe")

    page.goto(confirm_url)
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Bekräfta").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Tack, du prenumererar nu"
    assert_no_axe_violations(page)

    response = page.goto(confirm_url)  # used now
    assert response.status == 410
    assert_no_axe_violations(page)
    response = page.goto(confirm_url[:-4])  # cut off in the mail
    assert response.status == 400 and page.get_by_role("heading", level=1).inner_text() == "Länken fungerar inte"
    assert_no_axe_violations(page)

    page.goto(stop_url)
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Avsluta prenumerationen").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Prenumerationen är avslutad"
    assert page.get_by_role("link", name="Prenumerera igen").is_visible()
    assert_no_axe_violations(page)

    page.goto(base + "/unsubscribe")
    assert_no_axe_violations(page)
    page.get_by_label("E-postadress").fill("sara.lind@kommun.example")
    page.get_by_role("button", name="Skicka länken").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Titta i din inkorg"
    assert_no_axe_violations(page)


def test_editor_pages_in_a_browser(page, config, live_server, tmp_path):
    """An editor signs in, imports a file, opens a person and the development Outbox: all accessible."""
    from shared.accounts import create_admin
    from tests.mailer.conftest import EDITOR_EMAIL, EDITOR_PASSWORD

    app = make_app(config, csrf=True)  # file outbox, as after `make run`
    base = live_server(app)
    with app.extensions["utskick"].db.transaction() as s:
        create_admin(s, app.extensions["utskick"].passwords, EDITOR_EMAIL, EDITOR_PASSWORD, "editor")

    page.goto(base + "/admin/subscribers/")
    page.get_by_label("E-postadress").fill(EDITOR_EMAIL)
    page.get_by_label("Lösenord").fill(EDITOR_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Prenumeranter"

    csv_file = tmp_path / "lista.csv"
    csv_file.write_bytes("\ufeffe-post;namn\r\nper.ek@kommun.example;Per Ek\r\nfel;X\r\n".encode())
    page.get_by_role("link", name="Importera CSV").click()
    page.get_by_label("CSV-fil").set_input_files(str(csv_file))
    page.get_by_role("button", name="Importera").click()
    assert "Importerade: 1" in page.inner_text("main") and "Ogiltiga rader: 1" in page.inner_text("main")
    assert_no_axe_violations(page)

    page.goto(base + "/admin/subscribers/")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="per.ek@kommun.example").click()
    assert "Historik" in page.inner_text("main")
    assert_no_axe_violations(page)

    run_worker(app)
    page.goto(base + "/admin/outbox/")
    assert_no_axe_violations(page)
    page.get_by_role("link", name=re.compile("Bekräfta din prenumeration")).click()
    assert page.locator("pre.mail a[href*='/confirm/']").count() == 1  # clickable in the text version
    assert_no_axe_violations(page)
    app.extensions["utskick"].db.dispose()
