"""The Outbox page: mails waiting or failed, and the file outbox of development."""
from __future__ import annotations

import re

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
