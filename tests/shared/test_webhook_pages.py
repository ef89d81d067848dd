"""The Webhooks pages, in both services: add with a URL and events (refused with a field error for an
address inside, SSRF), the secret shown once, disable (nothing new is queued, queued deliveries wait),
enable, remove, the latest deliveries with their status; each person sees their own webhooks only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from services.mailer.bounces.domain import record_bounce
from shared.accounts import create_admin
from shared.api.destinations import Rules
from shared.api.webhooks import deliver_due
from shared.models import BounceKind, BounceSource, Webhook, WebhookDelivery
from tests.shared.test_web import FACTORIES, login

PASSWORD = "ett långt lösenord"
PUBLIC_URL = "https://192.0.43.10/hook"  # a public address: taken without looking anything up


def _client(app, db, passwords, email: str, role: str):
    with db.transaction() as session:
        create_admin(session, passwords, email, PASSWORD, role)
    client = app.test_client()
    assert login(client, email, PASSWORD).status_code == 302
    return client


def post(client, url, data, page_url="/admin/webhooks/"):
    page = client.get(page_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post(url, data={**data, "csrf_token": token})


@pytest.fixture
def mailer(config):
    return FACTORIES["mailer"](config)


def _count(db, model) -> int:
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def _hook_id(db) -> int:
    with db.sessions() as s:
        return s.scalar(select(Webhook.id))


def test_add_see_the_secret_once_disable_enable_remove(mailer, db, passwords):
    editor = _client(mailer, db, passwords, "red@vastkom.example", "editor")
    page = editor.get("/admin/webhooks/")
    assert page.status_code == 200 and "Inga webhooks ännu" in page.text
    assert "survey.responses_reached" not in page.text  # the mailer's events only

    inside = post(editor, "/admin/webhooks/", {"url": "https://169.254.169.254/latest", "events": "bounce"})
    assert inside.status_code == 422
    assert "pekar på en intern adress (länklokal" in inside.text and 'class="error-summary"' in inside.text
    plain = post(editor, "/admin/webhooks/", {"url": "http://192.0.43.10/hook", "events": "bounce"})
    assert plain.status_code == 422 and "ska börja med https://" in plain.text
    no_events = post(editor, "/admin/webhooks/", {"url": PUBLIC_URL})
    assert no_events.status_code == 422 and "Välj minst en händelse" in no_events.text
    assert _count(db, Webhook) == 0

    created = post(editor, "/admin/webhooks/", {"url": PUBLIC_URL, "events": ["bounce", "subscription.stopped"]})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(whsec_[^"]+)"', created.text).group(1)
    listed = editor.get("/admin/webhooks/").text
    assert secret not in listed and PUBLIC_URL in listed and "Aktiv" in listed
    hook_id = _hook_id(db)

    assert post(editor, f"/admin/webhooks/{hook_id}/disable", {}).status_code == 303
    assert "Avstängd" in editor.get("/admin/webhooks/").text
    with db.transaction() as s:
        record_bounce(s, "x@vastkom.example", BounceKind.HARD, source=BounceSource.DSN)
    assert _count(db, WebhookDelivery) == 0  # a disabled webhook is told nothing new

    assert post(editor, f"/admin/webhooks/{hook_id}/enable", {}).status_code == 303
    with db.transaction() as s:
        record_bounce(s, "y@vastkom.example", BounceKind.HARD, source=BounceSource.DSN)
    assert _count(db, WebhookDelivery) == 1
    assert post(editor, f"/admin/webhooks/{hook_id}/remove", {}).status_code == 303
    assert _count(db, Webhook) == 0 and _count(db, WebhookDelivery) == 0
    assert "är borttagen" in editor.get("/admin/webhooks/").text


def test_the_latest_deliveries_show_their_status_and_a_disabled_hook_holds_them(mailer, db, passwords):
    editor = _client(mailer, db, passwords, "red@vastkom.example", "editor")
    post(editor, "/admin/webhooks/", {"url": PUBLIC_URL, "events": "bounce"})
    with db.transaction() as s:
        record_bounce(s, "x@vastkom.example", BounceKind.HARD, source=BounceSource.DSN)
    hook_id = _hook_id(db)

    def refuse(url, body, headers):
        return 503

    post(editor, f"/admin/webhooks/{hook_id}/disable", {})
    assert deliver_due(db, Rules(), poster=refuse) == 0  # held while disabled
    post(editor, f"/admin/webhooks/{hook_id}/enable", {})
    assert deliver_due(db, Rules(), poster=refuse) == 1
    page = editor.get(f"/admin/webhooks/{hook_id}")
    assert page.status_code == 200
    row = re.search(r"<tr>\s*<td>1</td>.*?</tr>", page.text, re.S).group(0)
    assert "bounce" in row and "I kö" in row and "nytt försök" in row and "HTTP 503" in row


def test_each_person_sees_their_own_and_an_admin_everyones(mailer, db, passwords):
    editor = _client(mailer, db, passwords, "red@vastkom.example", "editor")
    post(editor, "/admin/webhooks/", {"url": PUBLIC_URL, "events": "bounce"})
    hook_id = _hook_id(db)
    other = _client(mailer, db, passwords, "annan@vastkom.example", "editor")
    assert PUBLIC_URL not in other.get("/admin/webhooks/").text
    assert other.get(f"/admin/webhooks/{hook_id}").status_code == 404
    assert post(other, f"/admin/webhooks/{hook_id}/remove", {}).status_code == 404
    admin = _client(mailer, db, passwords, "admin@vastkom.example", "admin")
    listed = admin.get("/admin/webhooks/").text
    assert PUBLIC_URL in listed and "red@vastkom.example" in listed


def test_the_survey_service_offers_its_event_with_a_response_count(config, db, passwords):
    survey = FACTORIES["survey"](config)
    evaluator = _client(survey, db, passwords, "eva@vastkom.example", "evaluator")
    page = evaluator.get("/admin/webhooks/").text
    assert "survey.responses_reached" in page and "subscription.confirmed" not in page
    missing = post(evaluator, "/admin/webhooks/", {"url": PUBLIC_URL, "events": "survey.responses_reached"})
    assert missing.status_code == 422 and "response_count" in missing.text
    made = post(
        evaluator,
        "/admin/webhooks/",
        {"url": PUBLIC_URL, "events": "survey.responses_reached", "response_count": "100"},
    )
    assert made.status_code == 201
    with db.sessions() as s:
        assert s.scalar(select(Webhook.response_count)) == 100
