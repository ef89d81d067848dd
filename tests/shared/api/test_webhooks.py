"""Webhooks: created through the API (the secret shown once), events queued with what caused them
(a confirmation, a stop, a bounce, a survey's n-th response) and posted by the worker to a real HTTP
server, signed with HMAC-SHA256, retried with growing pauses when the receiver fails."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.mailer import create_app as mailer_app
from services.mailer.bounces.domain import record_bounce
from services.survey import create_app as survey_app
from shared.api.destinations import Rules
from shared.api.webhooks import deliver_due
from shared.clock import utcnow
from shared.models import BounceKind, BounceSource, WebhookDelivery, WebhookDeliveryStatus
from tests.api_keys import bearer, new_key
from tests.mailer.conftest import link, make_app
from tests.mailer.test_api import _mail_to

# The receiver (conftest) listens on 127.0.0.1 over plain http: allowed here only (see test_destinations).
LOOPBACK = Rules(allow_http=True, allow_private=True)


@pytest.fixture
def config(config):
    return config.with_(webhook_allow_http=True, webhook_allow_private=True)


@pytest.fixture
def app(config):
    app = make_app(config)  # CSRF off: the test posts the confirmation page's form directly
    yield app
    app.extensions["utskick"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def _checked(headers: dict, body: bytes, secret: str) -> dict:
    t, v1 = (part.split("=", 1)[1] for part in headers["Utskick-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)
    return json.loads(body)


def test_confirmed_stopped_and_bounce_reach_the_receiver_signed(app, client, receiver):
    url, received, _answers = receiver
    h = bearer(new_key(app, ["mailer:write"]))
    created = client.post(
        "/api/v1/webhooks",
        headers=h,
        json={"url": url, "events": ["subscription.confirmed", "subscription.stopped", "bounce"]},
    )
    assert created.status_code == 201 and created.json["secret"].startswith("whsec_")
    secret = created.json["secret"]
    assert "secret" not in client.get("/api/v1/webhooks", headers=h).json["items"][0]

    answer = client.post("/api/v1/subscriptions", headers=h, json={"email": "anna@vastkom.example"}).json
    client.post(link(_mail_to(app, "anna@vastkom.example"), "confirm"))
    client.post(f"/api/v1/subscriptions/{answer['subscription']['id']}/stop", headers=h)
    db = app.extensions["utskick"].db
    with db.transaction() as s:
        record_bounce(s, "Anna@vastkom.example", BounceKind.HARD, source=BounceSource.DSN, status_code="5.1.1")
    assert deliver_due(db, LOOPBACK) == 3
    events = [_checked(headers, body, secret) for headers, body in received]
    assert [e["event"] for e in events] == ["subscription.confirmed", "subscription.stopped", "bounce"]
    assert events[0]["data"]["email"] == "anna@vastkom.example"
    assert events[2]["data"] == {
        "email": "anna@vastkom.example",
        "kind": "hard",
        "status_code": "5.1.1",
        "suppressed": True,
    }
    assert received[0][0]["Utskick-Event"] == "subscription.confirmed"
    assert deliver_due(db, LOOPBACK) == 0  # sent once


def test_a_failing_receiver_is_tried_again_later(app, client, receiver):
    url, received, answers = receiver
    h = bearer(new_key(app, ["mailer:write"]))
    client.post("/api/v1/webhooks", headers=h, json={"url": url, "events": ["bounce"]})
    db = app.extensions["utskick"].db
    with db.transaction() as s:
        record_bounce(s, "x@vastkom.example", BounceKind.SOFT, source=BounceSource.DSN)
    answers.append(500)
    assert deliver_due(db, LOOPBACK) == 1
    with db.sessions() as s:
        delivery = s.scalar(select(WebhookDelivery))
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            WebhookDeliveryStatus.QUEUED,
            1,
            "HTTP 500",
        )
    assert deliver_due(db, LOOPBACK) == 0  # not due yet
    assert deliver_due(db, LOOPBACK, now=utcnow() + timedelta(minutes=2)) == 1
    assert len(received) == 2 and received[0][1] == received[1][1]  # the same delivery again
    with db.sessions() as s:
        assert s.scalar(select(WebhookDelivery.status)) == WebhookDeliveryStatus.SENT


def test_a_survey_reaching_a_response_count(config, receiver):
    from services.survey.responses.storage import complete
    from shared.models import Response, Survey
    from tests.survey.results_data import make_survey

    url, received, _answers = receiver
    app = survey_app(config)
    h = bearer(new_key(app, ["survey:write"]))
    client = app.test_client()
    refused = client.post("/api/v1/webhooks", headers=h, json={"url": url, "events": ["survey.responses_reached"]})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "body.response_count"
    assert client.post("/api/v1/webhooks", headers=h, json={"url": "ftp://x", "events": ["bounce"]}).status_code == 422
    client.post(
        "/api/v1/webhooks", headers=h, json={"url": url, "events": ["survey.responses_reached"], "response_count": 2}
    )
    db = app.extensions["utskick"].db
    with db.transaction() as s:
        survey_id = make_survey(s, anonymous=False).id
    for n in range(3):
        with app.test_request_context(), db.transaction() as s:
            survey = s.get(Survey, survey_id)
            response = Response(
                id=f"r{n}", survey_id=survey.id, status="in_progress", started_at=utcnow(), updated_at=utcnow()
            )
            s.add(response)
            s.flush()
            complete(s, survey, response.id, response.started_at, None, {}, utcnow())
    assert deliver_due(db, LOOPBACK) == 1
    assert json.loads(received[0][1])["data"] == {"survey_id": 1, "complete_responses": 2}


def test_webhooks_are_the_accounts_own(config, receiver):
    url, _received, _answers = receiver
    app = mailer_app(config)
    client = app.test_client()
    mine = bearer(new_key(app, ["mailer:write"]))
    other = bearer(new_key(app, ["mailer:write"], email="annan@vastkom.example"))
    hook = client.post("/api/v1/webhooks", headers=mine, json={"url": url, "events": ["bounce"]}).json
    assert client.get("/api/v1/webhooks", headers=other).json["items"] == []
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=mine).json == {"removed": True}


def test_an_anonymous_surveys_count_is_posted_after_midnight(config, db, passwords):
    from shared.accounts import create_admin
    from shared.api.webhooks import create_webhook, emit_response_count
    from shared.i18n import LOCAL_ZONE
    from tests.survey.results_data import make_regions, make_survey

    with db.transaction() as s:
        account = create_admin(s, passwords, "eva@vastkom.example", "ett långt lösenord", "evaluator")
        create_webhook(
            s,
            account,
            "survey",
            "https://bi.example/hook",
            ["survey.responses_reached"],
            3,
            rules=Rules(),
            resolver=lambda host, port: ["192.0.43.10"],
        )
        survey = make_survey(s, anonymous=True)
        make_regions(s, survey, {"Norr": 3})
        assert emit_response_count(s, survey.id, anonymous=True) == 1
    with db.sessions() as s:
        due = s.scalar(select(WebhookDelivery.due_at))
    local = due.astimezone(LOCAL_ZONE)
    assert due > utcnow() and (local.hour, local.minute) == (0, 0)
    assert deliver_due(db, LOOPBACK) == 0  # not before then
