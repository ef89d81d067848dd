"""Bounces: DSN files (RFC 3464) via the command line, the webhook, soft-bounce counting, and the
editors' suppression list."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from services.mailer.bounces.domain import classify, parse_dsn, record_bounce
from shared.clock import utcnow
from shared.models import BounceEvent, Suppression
from tests.mailer.conftest import make_app, sign_in

DSN = Path(__file__).parent / "dsn"


def suppressed(db) -> dict[str, str]:
    with db.transaction() as session:
        return dict(session.execute(select(Suppression.email, Suppression.reason)).all())


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


def test_bounces_process_command_suppresses_hard_bounces(config, db, monkeypatch):
    from services.cli import main

    for name, value in {"DATABASE_URL": config.database_url, "SECRET_KEYS": ",".join(config.secret_keys),
                        "UTSKICK_VAR_DIR": str(config.var_dir)}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["bounces", "process", str(DSN / "hard.eml"), str(DSN / "soft.eml")])
    assert result.exit_code == 0, result.output
    assert "borta@example.org" in result.output.lower() and "2 bounce(s) recorded" in result.output
    # One soft bounce is not enough to stop mailing someone.
    assert suppressed(db) == {"borta@example.org": "hard_bounce"}


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


def test_webhook_needs_the_shared_secret(config, db):
    app = make_app(config.with_(bounce_webhook_secret="relay-secret-0123456789"))
    client = app.test_client()
    body = {"email": "Borta@example.org", "type": "hard", "status": "5.1.1"}
    assert client.post("/webhooks/bounces", json=body).status_code == 401
    assert client.post("/webhooks/bounces", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert suppressed(db) == {}
    response = client.post("/webhooks/bounces", json=body, headers={"Authorization": "Bearer relay-secret-0123456789"})
    assert response.status_code == 200
    assert suppressed(db) == {"borta@example.org": "hard_bounce"}
    raw = client.post("/webhooks/bounces", data=(DSN / "soft.eml").read_bytes(), content_type="message/rfc822",
                      headers={"Authorization": "Bearer relay-secret-0123456789"})
    assert raw.json == {"recorded": [{"email": "full@example.net", "type": "soft"}]}
    assert client.post("/webhooks/bounces", json={"nope": 1},
                       headers={"Authorization": "Bearer relay-secret-0123456789"}).status_code == 400
    app.extensions["utskick"].db.dispose()


def test_webhook_is_off_without_a_secret(client):
    assert client.post("/webhooks/bounces", json={"email": "a@example.org"}).status_code == 404


def test_editors_see_and_lift_suppressions_with_csrf(csrf_app, db):
    with db.transaction() as session:
        record_bounce(session, "borta@example.org", "hard", source="smtp", status_code="5.1.1", detail="User unknown")
        session.add(Suppression(email="annan@example.org", reason="manual"))
    client = sign_in(csrf_app, csrf_app.test_client())
    page = client.get("/admin/suppressions/?q=borta")
    assert page.status_code == 200
    assert "borta@example.org" in page.text and "annan@example.org" not in page.text
    assert "Adressen finns inte" in page.text
    action = re.search(r'action="(/admin/suppressions/\d+/lift)"', page.text).group(1)
    assert client.post(action).status_code == 400  # no CSRF token
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(action, data={"csrf_token": token})
    assert response.status_code == 302
    assert suppressed(db) == {"annan@example.org": "manual"}
    with db.transaction() as session:
        assert session.scalars(select(BounceEvent.email)).all() == ["borta@example.org"]  # history kept for hard ones
