"""Statistics without tracking people: clicks are counted per issue and link through a redirect that
carries no recipient, every recipient gets the same link, and a click stores nothing else."""

from __future__ import annotations

import re

from sqlalchemy import func, select, update

from services.mailer.delivery.pipeline import IssuePipeline
from services.mailer.issues import domain
from shared.models import Base, LinkClick, NewsletterList
from tests.mailer.conftest import mail_html, mail_text
from tests.mailer.issue_fixtures import add_subscribers, default_list

SOURCE = "Läs [rapporten](https://example.org/rapport?a=1&b=2) och [kalendern](https://example.org/kalender)."


def _send(app, *, click_statistics: bool, subscribers: int = 3) -> int:
    svc = app.extensions["utskick"]
    with svc.db.transaction() as s:
        s.execute(update(NewsletterList).values(click_statistics=click_statistics))
        add_subscribers(s, subscribers)
    with app.app_context(), svc.db.transaction() as s:
        issue = domain.create_issue(s, list_id=default_list(s).id, subject="Nytt", preheader="", source=SOURCE)
        domain.send_now(s, svc.config, issue)
        issue_id = issue.id
    IssuePipeline(svc.config, svc.db).run()
    return issue_id


def _row_counts(db) -> dict[str, int]:
    with db.sessions() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_clicks_are_counted_per_link_and_never_per_person(smtp_app, smtp_server, db):
    issue_id = _send(smtp_app, click_statistics=True)
    messages = smtp_server.wait_for(3)
    links_per_mail = [re.findall(r"https?://\S+/l/[A-Za-z0-9_.\-]+", mail_text(m.message)) for m in messages]
    # Every recipient's mail has the very same links: nothing in them can tell who clicked.
    assert all(found == links_per_mail[0] for found in links_per_mail) and len(links_per_mail[0]) == 2
    assert "example.org/rapport" not in mail_html(messages[0].message)
    client = smtp_app.test_client()
    report_link = links_per_mail[0][0].split("/l/", 1)[1]
    payload = smtp_app.extensions["utskick"].tokens.loads("click", report_link)
    assert payload == [issue_id, "https://example.org/rapport?a=1&b=2"]  # the issue and the link, nobody

    before = _row_counts(db)
    for _ in range(2):
        response = client.get(f"/l/{report_link}")
        assert response.status_code == 302
        assert response.headers["Location"] == "https://example.org/rapport?a=1&b=2"
    after = _row_counts(db)
    # One new row in link_clicks, and nothing else anywhere (no per-person click data).
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {"link_clicks": 1}
    with db.sessions() as s:
        assert s.execute(select(LinkClick.url, LinkClick.clicks)).all() == [("https://example.org/rapport?a=1&b=2", 2)]
    assert {c.name for c in LinkClick.__table__.columns} == {"id", "issue_id", "url", "clicks"}

    assert client.get(f"/l/{report_link}x").status_code == 404  # tampered: no redirect anywhere
    editor_page = _editor(smtp_app).get(f"/admin/issues/{issue_id}/statistics").get_data(as_text=True)
    assert "https://example.org/rapport?a=1&amp;b=2" in editor_page
    assert "<dt>Levererade</dt><dd>3</dd>" in editor_page


def test_without_click_statistics_the_links_are_the_editors_own(smtp_app, smtp_server):
    issue_id = _send(smtp_app, click_statistics=False, subscribers=1)
    message = smtp_server.wait_for(1)[0].message
    assert "https://example.org/kalender" in mail_text(message)
    assert "/l/" not in mail_text(message)
    # Every mail's footer links the privacy notice and the accessibility statement.
    assert "/privacy" in mail_text(message) and "/accessibility" in mail_html(message)
    page = _editor(smtp_app).get(f"/admin/issues/{issue_id}/statistics").get_data(as_text=True)
    assert "Listan räknar inte klick" in page


def test_stops_after_the_issue_are_counted(smtp_app, smtp_server):
    issue_id = _send(smtp_app, click_statistics=False, subscribers=2)
    message = smtp_server.wait_for(2)[0].message
    stop = re.search(r"https?://\S+(/unsubscribe/[A-Za-z0-9_.\-]+)", mail_text(message)).group(1)
    assert smtp_app.test_client().post(stop, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with smtp_app.app_context(), smtp_app.extensions["utskick"].db.sessions() as s:
        from services.mailer.issues.statistics import issue_statistics

        stats = issue_statistics(s, s.get_one(domain.Issue, issue_id))
    assert (stats.delivered, stats.stopped, stats.failed) == (2, 1, 0)
    assert sum(h.delivered for h in stats.hours) == 2 and sum(h.stopped for h in stats.hours) == 1


def _editor(app):
    from tests.mailer.conftest import sign_in

    return sign_in(app, app.test_client())
