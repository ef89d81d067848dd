"""An editor makes a newsletter as a new user would, in Chromium, with axe-core on every new page:
creates a list, imports subscribers with attributes, saves a segment on one, uploads an image, writes
an issue from the starter with a contents list, a calendar table and a personal greeting, previews it
at phone width, test-sends it, sends it to the segment and reads the statistics with click counts."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from sqlalchemy import select

from shared.accounts import create_admin
from shared.models import Delivery, Issue, OutboxMail
from tests.browser.conftest import assert_no_axe_violations
from tests.mailer.conftest import make_app
from tests.mailer.issue_fixtures import add_subscribers, default_list


@pytest.fixture
def mailer(config, live_server):
    app = make_app(config, csrf=True)
    base = live_server(app)
    yield app, base
    app.extensions["utskick"].db.dispose()


def _sign_in(page, app, base) -> None:
    with app.extensions["utskick"].db.transaction() as session:
        create_admin(
            session, app.extensions["utskick"].passwords, "redaktor@example.org", "ett långt lösenord", "editor"
        )
    page.goto(base + "/admin/login")
    page.get_by_label("E-postadress").fill("redaktor@example.org")
    page.get_by_label("Lösenord").fill("ett långt lösenord")
    page.get_by_role("button", name="Logga in").click()


def test_an_editor_makes_and_sends_a_newsletter(page, mailer, tmp_path):
    app, base = mailer
    db = app.extensions["utskick"].db
    _sign_in(page, app, base)

    # A list of our own.
    page.goto(base + "/admin/lists/new")
    assert_no_axe_violations(page)
    page.get_by_label("Namn", exact=True).fill("Kommunchefsbrevet")
    page.get_by_label("Adress (används i länken /subscribe/…)").fill("kommunchefer")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_url("**/admin/lists/*")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Lägg till en prenumerant").click()
    assert_no_axe_violations(page)
    with db.transaction() as session:
        add_subscribers(session, 2, prefix="annan", domain="annat.example")
        nyhetsbrev = default_list(session).id

    # Subscribers with attributes, imported from a CSV file (every column but e-mail and name).
    rows = [f"person{i}@kommun.example;Person {i};Vänersborg;chef" for i in range(4)]
    csv_file = tmp_path / "kommunchefer.csv"
    csv_file.write_text("e-post;namn;kommun;roll\n" + "\n".join([*rows, "ny@kommun.example;Ny;Trollhättan;chef"]))
    page.goto(base + "/admin/subscribers/import")
    page.get_by_label("CSV-fil").set_input_files(str(csv_file))
    page.get_by_label("Lista", exact=True).select_option(label="Nyhetsbrevet")
    page.get_by_label("Samtycke är redan givet").check()
    page.get_by_role("button", name="Importera").click()
    page.wait_for_url("**/admin/subscribers/import")
    assert "5" in page.locator("main").inner_text()

    # Count clicks on the default list (off until an editor turns it on).
    page.goto(base + f"/admin/lists/{nyhetsbrev}")
    page.get_by_label("Räkna klick på länkar (totalt per länk, aldrig per person)").check()
    page.get_by_role("button", name="Spara").click()
    page.get_by_text("Ändringarna är sparade.").wait_for()

    # A segment: the list's people at kommun.example; the count follows the form.
    page.goto(base + "/admin/segments/new")
    assert_no_axe_violations(page)
    page.get_by_label("Namn", exact=True).fill("Kommunerna")
    page.locator(f"#list-{nyhetsbrev}").check()
    page.locator("#field-1").select_option("attribute")
    page.locator("#key-1").fill("kommun")
    page.locator("#op-1").select_option("equals")
    page.get_by_label("Värde i villkor 1").fill("vänersborg")
    page.get_by_text("Segmentet når 4 personer just nu.").wait_for()
    page.get_by_role("button", name="Spara segmentet").click()
    page.wait_for_url("**/admin/segments/*")
    assert_no_axe_violations(page)

    # An image with its alt text.
    picture = tmp_path / "anna.png"
    Image.new("RGB", (800, 600), (30, 80, 120)).save(picture)
    page.goto(base + "/admin/media/")
    page.get_by_label("Bild (JPEG, PNG, GIF eller WebP)").set_input_files(str(picture))
    page.get_by_label("Alternativtext").fill("Anna Berg, direktör")
    page.get_by_role("button", name="Ladda upp").click()
    page.wait_for_url("**/admin/media/*")
    assert_no_axe_violations(page)
    image_markdown = page.get_by_label("Markdown för bilden").input_value()

    # The issue, from the starter, with the image, sent to the segment.
    page.goto(base + "/admin/issues/new?starter=1")
    assert_no_axe_violations(page)
    page.get_by_label("Ämnesrad").fill("Hej {{ förnamn }}: nytt från VästKom")
    source = page.get_by_label("Innehåll (Markdown)")
    source.fill(source.input_value().replace("Skriv ledaren här.", image_markdown))
    page.get_by_label("Lista", exact=True).select_option(label="Nyhetsbrevet")  # the list that counts clicks
    page.get_by_label("Eller bara till ett segment").select_option(label="Kommunerna")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_url("**/admin/issues/*")
    issue_path = page.url.split(base, 1)[1]
    issue_id = int(issue_path.rstrip("/").split("/")[-1])

    # The editor: side by side, phone width, the mail as tall as it is.
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(base + f"/admin/issues/{issue_id}/edit")
    assert_no_axe_violations(page)
    page.get_by_label("Telefon").check()
    frame = page.frame_locator("#editor-preview-frame")
    assert frame.locator("th", has_text="Datum").is_visible()
    assert frame.get_by_role("link", name="Kalendarium").is_visible()  # the contents list
    assert frame.locator("img[alt='Anna Berg, direktör']").count() == 1
    assert page.locator("#editor-preview-frame").evaluate("f => f.getBoundingClientRect().width") <= 376
    # Autosave: typing updates the draft (and the preview) without pressing Spara.
    page.get_by_role("button", name="Fet").click()
    page.get_by_text("Utkastet sparades automatiskt").wait_for()

    page.goto(base + f"/admin/issues/{issue_id}/preview?person=person1@kommun.example&width=phone")
    assert_no_axe_violations(page)
    assert "Hej Person" in page.locator("dd").first.inner_text()
    assert page.frame_locator("iframe.mail-preview").get_by_text("Hej Person!").is_visible()

    page.goto(base + f"/admin/issues/{issue_id}")
    page.get_by_label("Skicka ett provutskick till").fill("prov@example.org")
    page.get_by_role("button", name="Skicka provutskick").click()
    page.get_by_text("Provutskicket är på väg").wait_for()
    with db.sessions() as session:
        assert session.scalar(select(OutboxMail.subject)) == "[Test] Hej Exempel: nytt från VästKom"

    page.get_by_role("link", name="Skicka nu …").click()
    assert "skickas till 4 aktiva prenumeranter på segmentet Kommunerna" in page.locator("main").inner_text()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Ja, skicka nu").click()
    page.get_by_text("Utskicket har börjat: 4 brev köade.").wait_for()
    with db.sessions() as session:
        assert sorted(session.scalars(select(Delivery.email))) == [f"person{i}@kommun.example" for i in range(4)]

    # A reader follows a link: counted for the issue and link, nobody's identity in it.
    with db.sessions() as session:
        html = session.get_one(Issue, issue_id).html
    click = re.search(r'href="[^"]*(/l/[^"]+)"', html).group(1)  # MAILER_URL is not the test server's
    followed = page.request.get(base + click, max_redirects=0)
    assert followed.status == 302 and followed.headers["location"] == "https://example.org"

    page.get_by_role("link", name="Statistik").click()
    assert_no_axe_violations(page)
    row = page.get_by_role("row", name="https://example.org 1")
    assert row.is_visible()
    page.goto(base + f"/admin/issues/{issue_id}/history")
    assert_no_axe_violations(page)


def test_new_settings_pages_and_public_pages_are_accessible(page, mailer):
    app, base = mailer
    _sign_in(page, app, base)
    for path in (
        "/admin/lists/",
        "/admin/segments/",
        "/admin/templates/",
        "/admin/templates/new",
        "/admin/organisation",
    ):
        page.goto(base + path)
        assert_no_axe_violations(page)
    page.goto(base + "/admin/lists/new")
    page.get_by_label("Namn", exact=True).fill("Kalenderbrevet")
    page.get_by_label("Adress (används i länken /subscribe/…)").fill("kalender")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_url("**/admin/lists/*")
    anonymous = page.context.browser.new_context(locale="sv-SE").new_page()
    for width in (320, 1280):
        anonymous.set_viewport_size({"width": width, "height": 800})
        for path in ("/", "/privacy", "/accessibility", "/subscribe/kalender"):
            anonymous.goto(base + path)
            assert anonymous.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
            assert_no_axe_violations(anonymous)
    anonymous.goto(base + "/")
    anonymous.get_by_label("Kalenderbrevet").check()
    anonymous.get_by_label("Nyhetsbrevet").check()
    anonymous.get_by_label("E-postadress").fill("lasare@example.org")
    anonymous.get_by_role("button", name="Prenumerera").click()
    anonymous.wait_for_url("**/check-inbox")
    with app.extensions["utskick"].db.sessions() as session:
        assert session.scalars(select(OutboxMail.recipient)).all() == ["lasare@example.org"]
    anonymous.context.close()
