"""The mailer's API as an integrator uses it: a list, a subscription confirmed from the mail (double
opt-in), consent given elsewhere, an issue written, scheduled and sent once whatever the retries,
the GDPR export and erasure, suppressions, and cursor pagination."""

from __future__ import annotations

import email as email_lib
import threading
from email.policy import default

from sqlalchemy import func, select

from shared.models import Delivery, OutboxMail, SubscriptionEvent
from tests.api_keys import bearer, new_key
from tests.mailer.conftest import link


def _mail_to(app, address: str):
    with app.extensions["utskick"].db.sessions() as s:
        raw = s.scalar(select(OutboxMail.message).where(OutboxMail.recipient == address).order_by(OutboxMail.id.desc()))
    return email_lib.message_from_bytes(raw, policy=default)


def _count(app, query) -> int:
    with app.extensions["utskick"].db.sessions() as s:
        return s.scalar(query)


def test_subscribe_confirm_write_schedule_and_send(app, client):
    h = bearer(new_key(app, ["mailer:write"]))
    created = client.post(
        "/api/v1/lists", headers=h, json={"slug": "personalbladet", "name": "Personalbladet", "language": "sv"}
    )
    assert created.status_code == 201
    list_id = created.json["id"]
    assert client.post("/api/v1/lists", headers=h, json={"slug": "personalbladet", "name": "X"}).status_code == 409

    subscribed = client.post(
        "/api/v1/subscriptions", headers=h, json={"email": "anna@vastkom.example", "list": "personalbladet"}
    )
    assert subscribed.status_code == 202
    assert subscribed.json["outcome"] == "confirmation_sent"
    assert subscribed.json["subscription"]["status"] == "pending"
    assert subscribed.json["subscription"]["consent_method"] == "double-opt-in"

    # The person confirms from the mail, exactly as after the subscribe page.
    client.post(link(_mail_to(app, "anna@vastkom.example"), "confirm"))
    subscription_id = subscribed.json["subscription"]["id"]
    assert client.get(f"/api/v1/subscriptions/{subscription_id}", headers=h).json["status"] == "active"

    issue = client.post(
        "/api/v1/issues", headers=h, json={"list_id": list_id, "subject": "December", "source": "## Nytt\n\nText."}
    )
    assert issue.status_code == 201
    issue_id = issue.json["id"]
    preview = client.get(f"/api/v1/issues/{issue_id}/preview", headers=h).json
    assert "Nytt" in preview["html"] and "Nytt" in preview["text"]
    changed = client.patch(f"/api/v1/issues/{issue_id}", headers=h, json={"preheader": "Årets sista"})
    assert changed.json["preheader"] == "Årets sista" and changed.json["subject"] == "December"

    scheduled = client.post(f"/api/v1/issues/{issue_id}/schedule", headers=h, json={"at": "2099-12-04T08:00:00+01:00"})
    assert scheduled.status_code == 200
    assert scheduled.json["status"] == "scheduled" and scheduled.json["scheduled_at"] == "2099-12-04T07:00:00Z"
    past = client.post(f"/api/v1/issues/{issue_id}/schedule", headers=h, json={"at": "2001-01-01T08:00:00Z"})
    assert past.status_code == 422 and past.json["errors"][0]["field"] == "body.date"
    assert client.post(f"/api/v1/issues/{issue_id}/unschedule", headers=h).json["status"] == "draft"

    retry = {**h, "Idempotency-Key": "send-december"}
    first = client.post(f"/api/v1/issues/{issue_id}/send", headers=retry)
    again = client.post(f"/api/v1/issues/{issue_id}/send", headers=retry)
    assert first.status_code == again.status_code == 202
    assert first.json == again.json and first.json["recipients"] == 1
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(app, select(func.count()).select_from(Delivery)) == 1
    # Without the key a second send is refused by the issue's state, not sent twice either.
    assert client.post(f"/api/v1/issues/{issue_id}/send", headers=h).status_code == 409
    progress = client.get(f"/api/v1/issues/{issue_id}/progress", headers=h).json
    assert progress["total"] == 1 and progress["status"] == "sending"
    assert client.post(f"/api/v1/issues/{issue_id}/pause", headers=h).json["status"] == "paused"
    assert client.post(f"/api/v1/issues/{issue_id}/resume", headers=h).json["status"] == "sending"
    cancelled = client.post(f"/api/v1/issues/{issue_id}/cancel", headers=h).json
    assert cancelled["issue"]["status"] == "cancelled" and cancelled["recipients"] == 1


def test_an_idempotency_key_is_for_one_request(app, client):
    h = {**bearer(new_key(app, ["mailer:write"])), "Idempotency-Key": "k1"}
    assert client.post("/api/v1/subscriptions", headers=h, json={"email": "a@vastkom.example"}).status_code == 202
    other = client.post("/api/v1/subscriptions", headers=h, json={"email": "b@vastkom.example"})
    assert other.status_code == 422
    assert _count(app, select(func.count()).select_from(OutboxMail)) == 1


def test_parallel_retries_send_once(app):
    """Two copies of the same request at the same moment: one confirmation mail, the same answer."""
    h = {**bearer(new_key(app, ["mailer:write"])), "Idempotency-Key": "samtidigt"}
    answers, start = [], threading.Barrier(4)

    def post():
        client = app.test_client()
        start.wait()
        answers.append(client.post("/api/v1/subscriptions", headers=h, json={"email": "c@vastkom.example"}))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _count(app, select(func.count()).select_from(OutboxMail)) == 1
    assert {a.status_code for a in answers} <= {202, 409}
    assert 202 in {a.status_code for a in answers}


def test_consent_given_elsewhere_is_recorded_as_such(app, client):
    h = bearer(new_key(app, ["mailer:write"]))
    body = {"email": "berit@vastkom.example", "name": "Berit", "consent_given_elsewhere": True}
    answer = client.post("/api/v1/subscriptions", headers=h, json=body)
    assert answer.json["outcome"] == "activated"
    assert answer.json["subscription"]["status"] == "active"
    assert answer.json["subscription"]["consent_method"] == "import"
    assert _count(app, select(func.count()).select_from(OutboxMail)) == 0  # no confirmation mail
    with app.extensions["utskick"].db.sessions() as s:
        detail = s.scalar(select(SubscriptionEvent.detail))
    assert "API key" in detail and "consent already given" in detail
    assert client.post("/api/v1/subscriptions", headers=h, json=body).json["outcome"] == "already_on_list"


def test_subscribers_search_update_export_and_erase(app, client):
    h = bearer(new_key(app, ["mailer:write"]))
    for n in range(5):
        client.post(
            "/api/v1/subscriptions",
            headers=h,
            json={"email": f"p{n}@vastkom.example", "consent_given_elsewhere": True},
        )
    pages, cursor = [], None
    while True:
        page = client.get("/api/v1/subscribers", headers=h, query_string={"limit": 2, "cursor": cursor or ""}).json
        pages.append([p["email"] for p in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [
        ["p0@vastkom.example", "p1@vastkom.example"],
        ["p2@vastkom.example", "p3@vastkom.example"],
        ["p4@vastkom.example"],
    ]
    found = client.get("/api/v1/subscribers?q=P3&status=active", headers=h).json["items"]
    assert [p["email"] for p in found] == ["p3@vastkom.example"]
    person = found[0]["id"]
    assert client.patch(f"/api/v1/subscribers/{person}", headers=h, json={"name": "Per"}).json["name"] == "Per"
    exported = client.get(f"/api/v1/subscribers/{person}/personal-data", headers=h)
    assert exported.status_code == 200 and "p3@vastkom.example" in exported.get_data(as_text=True)
    assert client.delete(f"/api/v1/subscribers/{person}", headers=h).json == {"erased": True, "suppressed": True}
    assert client.get(f"/api/v1/subscribers/{person}", headers=h).status_code == 404
    suppressed = client.get("/api/v1/suppressions?q=p3", headers=h).json["items"]
    assert [(x["email"], x["reason"]) for x in suppressed] == [("p3@vastkom.example", "erasure")]
    again = client.post("/api/v1/subscriptions", headers=h, json={"email": "p3@vastkom.example"})
    assert again.json["outcome"] == "suppressed" and again.json["subscription"] is None


def test_suppressions_add_and_lift(app, client):
    h = bearer(new_key(app, ["mailer:write"]))
    added = client.post("/api/v1/suppressions", headers=h, json={"email": "Spam@Vastkom.example", "detail": "bad"})
    assert added.status_code == 201 and added.json["reason"] == "manual"
    assert client.post("/api/v1/suppressions", headers=h, json={"email": "spam@vastkom.example"}).status_code == 200
    assert client.post("/api/v1/suppressions", headers=h, json={"email": "inte en adress"}).status_code == 422
    assert client.delete(f"/api/v1/suppressions/{added.json['id']}", headers=h).json == {
        "email": "spam@vastkom.example"
    }
    assert client.get("/api/v1/suppressions", headers=h).json["items"] == []


def test_a_test_send_goes_to_the_outbox_once(app, client):
    h = {**bearer(new_key(app, ["mailer:write"])), "Idempotency-Key": "test-1"}
    issue = client.post("/api/v1/issues", headers=h, json={"subject": "Prov", "source": "Text"}).json
    for _ in range(2):
        answer = client.post(
            f"/api/v1/issues/{issue['id']}/test", headers=h, json={"addresses": ["eva@vastkom.example"]}
        )
        assert answer.status_code == 202 and answer.json == {"sent_to": ["eva@vastkom.example"]}
    assert _count(app, select(func.count()).select_from(OutboxMail)) == 1


def test_a_list_made_through_the_api_follows_the_listor_pages_rules(app, client):
    """One domain function (lists.domain.save_list) for the page and the API: the same checks, the
    same normalised slug, a list the Listor page can edit."""
    h = bearer(new_key(app, ["mailer:write"]))
    bad = client.post("/api/v1/lists", headers=h, json={"slug": "-fel", "name": "Fel"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "body.slug"
    assert bad.json["errors"][0]["message"].startswith("Adressen får bara ha små bokstäver")
    made = client.post("/api/v1/lists", headers=h, json={"slug": "Kultur", "name": "  Kulturbladet "})
    assert made.status_code == 201 and (made.json["slug"], made.json["name"]) == ("kultur", "Kulturbladet")
    assert client.post("/api/v1/lists", headers=h, json={"slug": "kultur", "name": "Igen"}).status_code == 409
