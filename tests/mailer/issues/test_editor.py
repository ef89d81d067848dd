"""The editor: autosave of drafts, the change history and restoring an earlier version, the
spell-checked Swedish textarea, the side-by-side preview."""

from __future__ import annotations

from services.mailer.issues import domain
from tests.mailer.issue_fixtures import default_list


def _issue(app, db) -> int:
    with app.app_context(), db.transaction() as s:
        return domain.create_issue(s, list_id=default_list(s).id, subject="Första", preheader="", source="Ett").id


def test_autosave_keeps_one_entry_per_working_session_and_refuses_unknown_fields(app, editor_client, db):
    issue_id = _issue(app, db)
    for text in ("Ett två", "Ett två tre"):
        saved = editor_client.post(
            f"/admin/issues/{issue_id}/autosave", data={"subject": "Första", "preheader": "", "source": text}
        )
        assert saved.status_code == 200 and saved.get_json()["saved"] is True
    bad = editor_client.post(
        f"/admin/issues/{issue_id}/autosave", data={"subject": "Hej {{ name }}", "preheader": "", "source": "x"}
    )
    assert bad.status_code == 400 and bad.get_json()["field"] == "subject"
    with db.sessions() as s:
        issue = s.get_one(domain.Issue, issue_id)
        assert issue.source == "Ett två tre"
        history = domain.revisions(s, issue)
    assert [(r.source, r.autosave) for r, _who in history] == [("Ett två tre", True), ("Ett", False)]


def test_an_earlier_version_can_be_restored(app, editor_client, db):
    issue_id = _issue(app, db)
    with db.transaction() as s:
        first = domain.revisions(s, s.get_one(domain.Issue, issue_id))[0][0].id
    editor_client.post(f"/admin/issues/{issue_id}/edit", data={"list_id": 1, "subject": "Andra", "source": "Två"})
    page = editor_client.get(f"/admin/issues/{issue_id}/history").get_data(as_text=True)
    assert "Andra" in page and "Första" in page and "redaktor@vastkom.example" in page
    assert editor_client.post(f"/admin/issues/{issue_id}/history/{first}/restore").status_code == 302
    with db.sessions() as s:
        issue = s.get_one(domain.Issue, issue_id)
        assert (issue.subject, issue.source) == ("Första", "Ett")
        assert len(domain.revisions(s, issue)) == 3


def test_edit_page_has_the_swedish_textarea_toolbar_and_preview(app, editor_client, db):
    issue_id = _issue(app, db)
    page = editor_client.get(f"/admin/issues/{issue_id}/edit?width=phone").get_data(as_text=True)
    assert 'lang="sv"' in page and 'spellcheck="true"' in page
    assert 'role="toolbar"' in page and 'aria-keyshortcuts="Control+B"' in page
    assert "mail-preview-phone" in page and f"/admin/issues/{issue_id}/preview.html" in page
    assert f"/admin/issues/{issue_id}/autosave" in page
