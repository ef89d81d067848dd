"""The bounce webhook a mail relay posts to."""

from __future__ import annotations

import pytest

from tests.mailer.bounces.conftest import DSN, suppressed
from tests.mailer.conftest import make_app

SECRET = "relay-secret-0123456789"
AUTH = {"Authorization": f"Bearer {SECRET}"}


@pytest.fixture
def relay(config):
    """A client of the mailer with the webhook turned on."""
    app = make_app(config.with_(bounce_webhook_secret=SECRET))
    yield app.test_client()
    app.extensions["utskick"].db.dispose()


def test_webhook_needs_the_shared_secret(relay, db):
    body = {"email": "Borta@example.org", "type": "hard", "status": "5.1.1"}
    assert relay.post("/webhooks/bounces", json=body).status_code == 401
    assert relay.post("/webhooks/bounces", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert suppressed(db) == {}
    response = relay.post("/webhooks/bounces", json=body, headers=AUTH)
    assert response.status_code == 200
    assert suppressed(db) == {"borta@example.org": "hard_bounce"}
    raw = relay.post(
        "/webhooks/bounces", data=(DSN / "soft.eml").read_bytes(), content_type="message/rfc822", headers=AUTH
    )
    assert raw.json == {"recorded": [{"email": "full@example.net", "type": "soft"}]}
    assert relay.post("/webhooks/bounces", json={"nope": 1}, headers=AUTH).status_code == 400


def test_webhook_is_off_without_a_secret(client):
    assert client.post("/webhooks/bounces", json={"email": "a@example.org"}).status_code == 404


def test_webhook_refuses_an_unknown_kind_of_bounce(relay, db):
    for kind in ("medium", 5, ["hard"]):
        response = relay.post("/webhooks/bounces", json={"email": "a@example.org", "type": kind}, headers=AUTH)
        assert response.status_code == 400 and response.json == {"error": "type must be hard or soft"}, kind
    assert suppressed(db) == {}
    soft = relay.post("/webhooks/bounces", json={"email": "A@example.org", "type": "soft"}, headers=AUTH)
    assert soft.json == {"recorded": [{"email": "a@example.org", "type": "soft"}]}
