"""The Outbox page: mails waiting or failed, and the file outbox of development."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from shared.models import MailKind, OutboxMail, OutboxStatus
from tests.mailer.conftest import run_worker, subscribe


def test_outbox_page_shows_file_mails_with_clickable_links(app, client, editor_client):
    subscribe(client, "utkorg@exempel.se", name="Ulla")
    page = editor_client.get("/admin/outbox/")
    assert "utkorg@exempel.se" in page.text and "I kö" in page.text  # queued, not yet delivered
    assert run_worker(app) == 1
    page = editor_client.get("/admin/outbox/")
    assert "Bekräfta din prenumeration" in page.text
    href = re.search(r'href="(/admin/outbox/[0-9a-f-]+\.eml)"', page.text).group(1)
    mail = editor_client.get(href)
    assert mail.status_code == 200
    assert re.search(r'<a href="http://mailer.test/confirm/[^"]+">', mail.text)
    assert "<iframe" in mail.text and "sandbox" in mail.text and "&lt;p&gt;" in mail.text
    html = editor_client.get(href + "/html")
    assert html.status_code == 200 and "default-src 'none'" in html.headers["Content-Security-Policy"]
    assert editor_client.get("/admin/outbox/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert editor_client.get("/admin/outbox/00000000000000000000-deadbeef.eml").status_code == 404


def test_outbox_times_are_swedish_time_across_the_start_of_summer_time(app, editor_client):
    """Summer time began at 01:00 UTC on 29 March 2026: 00:30 UTC was 01:30 in Sweden, 01:30 UTC was 03:30."""
    with app.extensions["utskick"].db.transaction() as session:
        for hour, recipient in ((0, "fore@exempel.se"), (1, "efter@exempel.se")):
            session.add(
                OutboxMail(
                    kind=MailKind.CONFIRMATION,
                    sender="nyhetsbrev@utskick.example",
                    recipient=recipient,
                    subject="Hej",
                    message=b"",
                    status=OutboxStatus.FAILED,
                    created_at=datetime(2026, 3, 29, hour, 30, tzinfo=UTC),
                )
            )
    folder = app.extensions["utskick"].config.mail_url.directory
    folder.mkdir(parents=True, exist_ok=True)
    for n, date in enumerate(("Sun, 29 Mar 2026 00:30:00 +0000", "Sun, 29 Mar 2026 01:30:00 -0000")):
        (folder / f"{n + 1:020d}-0000000{n}.eml").write_bytes(
            f"Date: {date}\r\nTo: fil{n}@exempel.se\r\nSubject: Fil {n}\r\n\r\nHej\r\n".encode()
        )
    page = editor_client.get("/admin/outbox/").text
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", page)
    assert ("2026-03-29 01:30", "fore@exempel.se") in rows and ("2026-03-29 03:30", "efter@exempel.se") in rows
    assert ("2026-03-29 01:30", "fil0@exempel.se") in rows and ("2026-03-29 03:30", "fil1@exempel.se") in rows
    assert "Misslyckades" in page and ">failed<" not in page
