"""The public archive and the editors' issue pages in Chromium, with axe-core on every page."""

from __future__ import annotations

import pytest

from services.mailer.issues import domain
from shared.accounts import create_admin
from tests.browser.conftest import assert_no_axe_violations
from tests.mailer.conftest import make_app
from tests.mailer.issue_fixtures import DEMO_ISSUE, add_subscribers


@pytest.fixture
def mailer(config, live_server):
    app = make_app(config, csrf=True)
    base = live_server(app)
    yield app, base
    app.extensions["utskick"].db.dispose()


def sent_demo_issue(app) -> int:
    db = app.extensions["utskick"].db
    with db.transaction() as session:
        add_subscribers(session, 3)
    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue_from_markdown_file(session, DEMO_ISSUE)
        domain.send_now(session, app.extensions["utskick"].config, issue)
        return issue.id


def test_archive_pages_are_accessible_and_fit_a_phone(page, mailer):
    app, base = mailer
    issue_id = sent_demo_issue(app)
    for width in (320, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(base + "/issues")
        assert page.locator("h1").inner_text().startswith("Tidigare nummer")
        assert_no_axe_violations(page)
        page.get_by_role("link", name="Nyhetsbrev 2025:10 – Dialogdag, upphandling och läget i Millennium").click()
        page.wait_for_url(f"**/issues/{issue_id}")
        assert page.locator("h2#upphandling").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        assert_no_axe_violations(page)
        page.get_by_role("link", name="Upphandling av nya leverantörer").click()  # the in-page table of contents
        assert page.url.endswith("#upphandling")


def test_editor_pages_for_an_issue_are_accessible(page, mailer):
    app, base = mailer
    issue_id = sent_demo_issue(app)
    with app.extensions["utskick"].db.transaction() as session:
        create_admin(
            session, app.extensions["utskick"].passwords, "redaktor@example.org", "ett långt lösenord", "editor"
        )
    page.goto(base + "/admin/login")
    page.get_by_label("E-postadress").fill("redaktor@example.org")
    page.get_by_label("Lösenord").fill("ett långt lösenord")
    page.get_by_role("button", name="Logga in").click()
    for path in (
        "/admin/issues/",
        f"/admin/issues/{issue_id}",
        f"/admin/issues/{issue_id}/preview",
        "/admin/issues/new",
        "/admin/suppressions/",
    ):
        page.goto(base + path)
        assert_no_axe_violations(page)
    page.goto(base + f"/admin/issues/{issue_id}")
    assert page.locator("progress").is_visible()
    # The preview frame renders the mail (its own CSP allows the inlined styles).
    frame = page.frame_locator("iframe.mail-preview")
    page.goto(base + f"/admin/issues/{issue_id}/preview")
    assert frame.locator("h2#upphandling").is_visible()
