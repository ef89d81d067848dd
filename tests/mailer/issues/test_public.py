"""The public archive of sent issues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.mailer.issues import domain
from shared.clock import utcnow
from tests.mailer.issue_fixtures import add_subscribers


def test_archive_lists_sent_issues_newest_first_without_personal_links(app, db, client):
    config = app.extensions["utskick"].config
    with db.transaction() as session:
        add_subscribers(session, 2)
    with app.app_context(), db.transaction() as session:
        old = domain.create_issue(session, list_id=1, subject="Förra numret", preheader="", source="## Gammalt")
        domain.send_now(session, config, old, now=utcnow() - timedelta(days=14))
        new = domain.create_issue(session, list_id=1, subject="Senaste numret", preheader="", source="## Nytt {#nytt}")
        domain.send_now(session, config, new)
        draft = domain.create_issue(session, list_id=1, subject="Hemligt utkast", preheader="", source="x")
        ids = (old.id, new.id, draft.id)
    page = client.get("/issues")
    assert page.status_code == 200
    assert page.text.index("Senaste numret") < page.text.index("Förra numret")
    assert "Hemligt utkast" not in page.text
    one = client.get(f"/issues/{ids[1]}")
    assert one.status_code == 200
    assert '<h2 id="nytt">Nytt</h2>' in one.text
    assert "/unsubscribe/" not in one.text and "person" not in one.text
    assert client.get(f"/issues/{ids[2]}").status_code == 404
    assert client.get("/issues/12345").status_code == 404
    assert client.get("/issues?list=finns-inte").status_code == 404


def test_the_archive_dates_an_issue_by_the_swedish_day(app, db, client):
    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue(session, list_id=1, subject="Midsommarnumret", preheader="", source="## Sommar")
        # 22:30 UTC on 30 June is 00:30 on 1 July in Sweden.
        domain.send_now(session, app.extensions["utskick"].config, issue, now=datetime(2026, 6, 30, 22, 30, tzinfo=UTC))
        issue_id = issue.id
    assert ">2026-07-01</time>" in client.get("/issues").text
    assert ">2026-07-01</time>" in client.get(f"/issues/{issue_id}").text
