"""The editors' issue pages over HTTP: write (with CSRF), preview, test send, send, schedule,
pause/resume/cancel and progress."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from services.mailer.issues import domain
from services.mailer.issues.domain import parse_markdown_file
from shared.models import Delivery, Issue, OutboxMail
from tests.mailer.conftest import sign_in
from tests.mailer.issue_fixtures import DEMO_ISSUE, add_subscribers


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def errors(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", e).replace("Fel: ", "") for e in re.findall(r'<p class="error"[^>]*>(.*?)</p>', html)
    ]


def test_issue_pages_need_a_login(client):
    for path in ("/admin/issues/", "/admin/issues/new", "/admin/suppressions/"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.location


def test_editor_writes_an_issue_through_the_real_form(csrf_app, db):
    client = sign_in(csrf_app, csrf_app.test_client())
    form = client.get("/admin/issues/new")
    assert form.status_code == 200
    token = csrf_token(form.text)
    empty = client.post("/admin/issues/new", data={"csrf_token": token, "list_id": "1", "subject": "", "source": ""})
    assert empty.status_code == 200
    assert errors(empty.text) == ["Skriv en ämnesrad.", "Skriv brevets innehåll."]
    assert 'aria-invalid="true"' in empty.text and "error-summary" in empty.text
    meta, source = parse_markdown_file(DEMO_ISSUE.read_text(encoding="utf-8"))
    created = client.post(
        "/admin/issues/new",
        data={
            "csrf_token": token,
            "list_id": "1",
            "subject": meta["subject"],
            "preheader": meta["preheader"],
            "source": source,
        },
    )
    assert created.status_code == 302
    page = client.get(created.location)
    assert meta["subject"] in page.text and "Utkast" in page.text
    listing = client.get("/admin/issues/")
    assert meta["subject"] in listing.text


def make_draft(app, db) -> int:
    with app.app_context(), db.transaction() as session:
        return domain.create_issue_from_markdown_file(session, DEMO_ISSUE).id


def test_preview_shows_html_in_a_sandboxed_frame_and_the_plain_text(app, db, editor_client):
    issue_id = make_draft(app, db)
    page = editor_client.get(f"/admin/issues/{issue_id}/preview")
    assert page.status_code == 200
    assert re.search(r"<iframe[^>]+sandbox", page.text)
    assert "Upphandling av nya leverantörer\n-------------------------------" in page.text  # plain text part
    frame = editor_client.get(f"/admin/issues/{issue_id}/preview.html")
    assert frame.status_code == 200
    csp = frame.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "frame-ancestors 'self'" in csp and "script-src" not in csp
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"  # agrees with the CSP for older browsers
    assert page.headers["X-Frame-Options"] == "DENY"
    assert 'id="upphandling"' in frame.text and "Exempel Exempelsson" in frame.text


def test_test_send_from_the_page(app, db, editor_client):
    issue_id = make_draft(app, db)
    bad = editor_client.post(f"/admin/issues/{issue_id}/test", data={"addresses": "redaktor@example.org, nej"})
    assert bad.status_code == 400
    assert errors(bad.text) == ["nej är inte en giltig e-postadress."]
    assert "redaktor@example.org, nej" in bad.text  # the input is kept
    ok = editor_client.post(f"/admin/issues/{issue_id}/test", data={"addresses": "redaktor@example.org"})
    assert ok.status_code == 302
    with db.transaction() as session:
        assert session.scalars(select(OutboxMail.recipient)).all() == ["redaktor@example.org"]


def test_send_now_asks_first_then_queues_every_active_subscriber(app, db, editor_client):
    with db.transaction() as session:
        add_subscribers(session, 4)
    issue_id = make_draft(app, db)
    confirm = editor_client.get(f"/admin/issues/{issue_id}/send")
    assert "4 aktiva prenumeranter" in confirm.text
    with db.transaction() as session:
        assert session.get(Issue, issue_id).status == "draft"  # a GET changes nothing
    assert editor_client.post(f"/admin/issues/{issue_id}/send").status_code == 302
    page = editor_client.get(f"/admin/issues/{issue_id}")
    assert "Skickas" in page.text and "<progress" in page.text
    assert re.search(r'data-field="total">4<', page.text)
    assert f'href="/admin/issues/{issue_id}"' in page.text  # the refresh link works without JavaScript
    data = editor_client.get(f"/admin/issues/{issue_id}/progress.json").json
    assert data["total"] == 4 and data["queued"] == 4 and data["sent"] == 0 and data["status"] == "sending"


def test_schedule_with_a_bad_or_past_time_explains_itself(app, db, editor_client):
    issue_id = make_draft(app, db)
    bad = editor_client.post(f"/admin/issues/{issue_id}/schedule", data={"date": "i morgon", "time": "8"})
    assert bad.status_code == 400 and len(errors(bad.text)) == 2
    past = editor_client.post(f"/admin/issues/{issue_id}/schedule", data={"date": "2020-01-01", "time": "08:00"})
    assert errors(past.text) == ["Tidpunkten har redan passerat."]
    ok = editor_client.post(f"/admin/issues/{issue_id}/schedule", data={"date": "2031-06-13", "time": "07:30"})
    assert ok.status_code == 302
    page = editor_client.get(f"/admin/issues/{issue_id}")
    assert "Schemalagt" in page.text and "2031-06-13 07:30" in page.text


def test_pause_resume_and_cancel(app, db, editor_client):
    with db.transaction() as session:
        add_subscribers(session, 3)
    issue_id = make_draft(app, db)
    editor_client.post(f"/admin/issues/{issue_id}/send")
    editor_client.post(f"/admin/issues/{issue_id}/pause")
    assert "Pausat" in editor_client.get(f"/admin/issues/{issue_id}").text
    editor_client.post(f"/admin/issues/{issue_id}/resume")
    with db.transaction() as session:
        assert session.get(Issue, issue_id).status == "sending"
    editor_client.post(f"/admin/issues/{issue_id}/cancel")
    with db.transaction() as session:
        assert session.get(Issue, issue_id).status == "cancelled"
        assert set(session.scalars(select(Delivery.status))) == {"cancelled"}
    # Nonsense actions give a message, never a 500.
    again = editor_client.post(f"/admin/issues/{issue_id}/resume", follow_redirects=True)
    assert again.status_code == 200 and "inte pausat" in again.text
    assert editor_client.get("/admin/issues/999").status_code == 404


def test_issue_pages_give_the_status_in_words_and_times_in_swedish_time(app, db, editor_client):
    issue_id = make_draft(app, db)
    started = datetime(2026, 10, 24, 21, 59, tzinfo=UTC)  # 23:59 summer time
    finished = datetime(2026, 10, 25, 2, 0, tzinfo=UTC)  # 03:00 winter time, after the clocks went back
    with app.app_context(), db.transaction() as session:
        domain.send_now(session, app.extensions["utskick"].config, session.get(Issue, issue_id), now=started)
    with db.transaction() as session:
        assert domain.finish_issues(session, now=finished) == 1
    listing = editor_client.get("/admin/issues/").text
    assert "Skickat</span>" in listing and "Klart 2026-10-25 03:00" in listing
    page = editor_client.get(f"/admin/issues/{issue_id}").text
    assert "<dd>2026-10-24 23:59</dd>" in page and "<dd>2026-10-25 03:00</dd>" in page
    assert ">Skickat</span>" in page and ">sent<" not in page and "UTC" not in page
    progress = editor_client.get(f"/admin/issues/{issue_id}/progress.json").json
    assert progress["status"] == "sent" and progress["status_label"] == "Skickat"
