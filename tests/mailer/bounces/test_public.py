"""The bounce webhook a mail relay posts to."""
from __future__ import annotations

from tests.mailer.bounces.conftest import DSN, suppressed
from tests.mailer.conftest import make_app


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


def test_webhook_refuses_an_unknown_kind_of_bounce(config, db):
    app = make_app(config.with_(bounce_webhook_secret="relay-secret-0123456789"))
    client = app.test_client()
    auth = {"Authorization": "Bearer relay-secret-0123456789"}
    for kind in ("medium", 5, ["hard"]):
        response = client.post("/webhooks/bounces", json={"email": "a@example.org", "type": kind}, headers=auth)
        assert response.status_code == 400 and response.json == {"error": "type must be hard or soft"}, kind
    assert suppressed(db) == {}
    soft = client.post("/webhooks/bounces", json={"email": "A@example.org", "type": "soft"}, headers=auth)
    assert soft.json == {"recorded": [{"email": "a@example.org", "type": "soft"}]}
    app.extensions["utskick"].db.dispose()
