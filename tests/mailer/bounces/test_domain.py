"""Bounces: reading DSNs (RFC 3464), classifying SMTP answers, soft-bounce counting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.mailer.bounces.domain import classify, parse_dsn, record_bounce
from shared.clock import utcnow
from tests.mailer.bounces.conftest import DSN, suppressed


def test_a_dsn_names_the_failed_recipient_and_the_kind_of_bounce():
    [hard] = parse_dsn((DSN / "hard.eml").read_bytes())
    assert (hard.email, hard.kind, hard.status) == ("Borta@Example.org", "hard", "5.1.1")
    assert "User unknown" in hard.detail
    [soft] = parse_dsn((DSN / "soft.eml").read_bytes())
    assert (soft.email, soft.kind) == ("full@example.net", "soft")
    assert parse_dsn(b"Subject: hello\r\n\r\nnot a report") == []


@pytest.mark.parametrize(
    "code,text,kind",
    [
        (550, "5.1.1 User unknown", "hard"),
        (550, "No such user here", "hard"),
        (552, "5.2.2 Mailbox full", "soft"),
        (554, "5.7.1 Rejected as spam", None),
        (451, "4.3.0 Try later", "soft"),
    ],
)
def test_classify(code, text, kind):
    assert classify(code, text)[0] == kind


def test_three_soft_bounces_within_30_days_suppress(db):
    now = utcnow()
    with db.transaction() as session:
        record_bounce(session, "full@example.net", "soft", source="dsn", now=now - timedelta(days=40))
        record_bounce(session, "full@example.net", "soft", source="dsn", now=now - timedelta(days=5))
        assert not record_bounce(session, "full@example.net", "soft", source="dsn", now=now - timedelta(days=1))
    assert suppressed(db) == {}
    with db.transaction() as session:
        assert record_bounce(session, "full@example.net", "soft", source="dsn", now=now)
    assert suppressed(db) == {"full@example.net": "soft_bounces"}
