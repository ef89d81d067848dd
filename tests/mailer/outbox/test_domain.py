"""The outbox as editors see it: counts and lists of waiting mails, the file outbox, clickable links."""

from __future__ import annotations

from services.mailer.outbox.domain import linkify, list_files, read_file, waiting_counts, waiting_mails
from shared.mail.outbox import enqueue
from shared.models import MailKind, OutboxStatus


def test_waiting_mails_are_counted_and_listed_newest_first(db, config):
    with db.transaction() as session:
        for n, to in enumerate(("a@exempel.se", "b@exempel.se", "c@exempel.se")):
            mail = enqueue(session, config, kind=MailKind.STOP_LINK, to_email=to, subject=f"Mejl {n}", text="Hej")
            mail.status = (OutboxStatus.QUEUED, OutboxStatus.FAILED, OutboxStatus.SENT)[n]
    with db.sessions() as session:
        assert waiting_counts(session) == {OutboxStatus.QUEUED: 1, OutboxStatus.FAILED: 1}
        assert [m.recipient for m in waiting_mails(session)] == ["b@exempel.se", "a@exempel.se"]


def test_only_the_file_outbox_own_files_are_read(tmp_path):
    (tmp_path / "00000000000000000001-0000abcd.eml").write_bytes(
        b"Date: Mon, 2 Mar 2026 09:00:00 +0000\r\nTo: a@exempel.se\r\nSubject: Hej\r\n\r\nText\r\n"
    )
    (tmp_path / "secret.eml").write_bytes(b"Subject: not ours\r\n\r\n")
    assert [(m.to, m.subject, m.date.hour) for m in list_files(tmp_path)] == [("a@exempel.se", "Hej", 9)]
    assert read_file(tmp_path, "00000000000000000001-0000abcd.eml")["Subject"] == "Hej"
    for name in ("secret.eml", "../00000000000000000001-0000abcd.eml", "00000000000000000002-0000abcd.eml"):
        assert read_file(tmp_path, name) is None


def test_linkify_escapes_the_text_and_links_web_addresses():
    assert linkify('Klicka <här>: https://mailer.test/confirm/a.b "ok"') == (
        'Klicka &lt;här&gt;: <a href="https://mailer.test/confirm/a.b">https://mailer.test/confirm/a.b</a> &#34;ok&#34;'
    )
