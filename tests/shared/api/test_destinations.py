"""Webhook addresses against SSRF: refused when made (as a problem naming body.url) unless https to a
public address, and checked again at each delivery on the address the name resolves to then (DNS
rebinding), with the connection going to that very address and redirects not followed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.mailer.bounces.domain import record_bounce
from shared.accounts import create_admin
from shared.api.destinations import Rules, poster
from shared.api.webhooks import create_webhook, deliver_due
from shared.models import BounceKind, BounceSource, WebhookDelivery, WebhookDeliveryStatus
from tests.api_keys import bearer, new_key
from tests.mailer.conftest import make_app

PUBLIC = "192.0.43.10"  # a public address (ICANN's): the checks let it through


@pytest.fixture
def app(config):
    app = make_app(config)  # the settings as deployed: https and public addresses only
    yield app
    app.extensions["utskick"].db.dispose()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://192.0.43.10/hook", "ska börja med https://"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://2130706433/hook", "loopback"),  # 127.0.0.1 written as one number
        ("https://10.1.2.3/hook", "privat nät"),
        ("https://192.168.0.10/hook", "privat nät"),
        ("https://100.64.0.1/hook", "privat nät"),  # carrier-grade NAT
        ("https://169.254.169.254/latest/meta-data", "länklokal"),  # the cloud's metadata service
        ("https://[fe80::1]/hook", "länklokal"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://240.0.0.1/hook", "reserverad"),
        ("https://0.0.0.0/hook", "ospecificerad"),
        ("https://user:pw@192.0.43.10/hook", "användarnamn eller lösenord"),
        ("ftp://192.0.43.10/hook", "ska börja med https://"),
    ],
)
def test_a_webhook_to_an_address_inside_is_refused_when_made(app, url, why):
    client = app.test_client()
    h = bearer(new_key(app, ["mailer:write"]))
    refused = client.post("/api/v1/webhooks", headers=h, json={"url": url, "events": ["bounce"]})
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "body.url"
    assert why in refused.json["errors"][0]["message"]
    assert client.get("/api/v1/webhooks", headers=h).json["items"] == []


def test_a_public_https_address_is_taken(app):
    client = app.test_client()
    h = bearer(new_key(app, ["mailer:write"]))
    made = client.post("/api/v1/webhooks", headers=h, json={"url": f"https://{PUBLIC}/hook", "events": ["bounce"]})
    assert made.status_code == 201


def _hook_and_bounce(app, url: str) -> None:
    """A webhook made while its name resolved to a public address, and an event for it."""
    svc = app.extensions["utskick"]
    with svc.db.transaction() as s:
        account = create_admin(s, svc.passwords, "it@vastkom.example", "ett långt lösenord", "admin")
        create_webhook(
            s, account, "mailer", url, ["bounce"], rules=Rules(allow_http=True), resolver=lambda host, port: [PUBLIC]
        )
        record_bounce(s, "x@vastkom.example", BounceKind.HARD, source=BounceSource.DSN)


def _delivery(app) -> WebhookDelivery:
    with app.extensions["utskick"].db.sessions() as s:
        return s.scalar(select(WebhookDelivery))


def test_a_name_that_resolves_inside_at_delivery_gets_nothing(app, receiver):
    """DNS rebinding: public when the webhook was made, 127.0.0.1 when the worker posts."""
    url, received, _answers = receiver
    port = url.split(":")[2].split("/")[0]
    _hook_and_bounce(app, f"http://rebind.example:{port}/hook")
    rebound = poster(Rules(allow_http=True), resolver=lambda host, port: ["127.0.0.1"])
    assert deliver_due(app.extensions["utskick"].db, Rules(), poster=rebound) == 1
    assert received == []
    delivery = _delivery(app)
    assert delivery.status == WebhookDeliveryStatus.QUEUED  # tried again later, checked again then
    assert delivery.last_error.startswith("Refused: rebind.example pekar på en intern adress (loopback: 127.0.0.1)")


def test_the_post_goes_to_the_checked_address_and_a_redirect_is_not_followed(app, receiver):
    url, received, answers = receiver
    port = url.split(":")[2].split("/")[0]
    _hook_and_bounce(app, f"http://hooks.example:{port}/hook")
    # Allowed to reach loopback here, so the resolved (not re-resolved) address is where it lands.
    pinned = poster(Rules(allow_http=True, allow_private=True), resolver=lambda host, port: ["127.0.0.1"])
    answers.append(302)
    assert deliver_due(app.extensions["utskick"].db, Rules(), poster=pinned) == 1
    assert len(received) == 1  # the redirect's Location was not asked for
    headers, _body = received[0]
    assert headers["Host"] == f"hooks.example:{port}"
    delivery = _delivery(app)
    assert (delivery.status, delivery.last_error) == (WebhookDeliveryStatus.QUEUED, "HTTP 302")


def test_the_worker_checks_with_the_deployments_rules(app, receiver):
    """Without a poster of its own, delivery applies the rules it is given: loopback is refused."""
    url, received, _answers = receiver
    svc = app.extensions["utskick"]
    with svc.db.transaction() as s:
        account = create_admin(s, svc.passwords, "it@vastkom.example", "ett långt lösenord", "admin")
        create_webhook(s, account, "mailer", url, ["bounce"], rules=Rules(allow_http=True, allow_private=True))
        record_bounce(s, "x@vastkom.example", BounceKind.HARD, source=BounceSource.DSN)
    assert deliver_due(svc.db, Rules(allow_http=True)) == 1
    assert received == [] and "loopback" in _delivery(app).last_error
    later = _delivery(app).due_at
    assert deliver_due(svc.db, Rules(allow_http=True, allow_private=True), now=later) == 1
    assert len(received) == 1 and _delivery(app).status == WebhookDeliveryStatus.SENT
