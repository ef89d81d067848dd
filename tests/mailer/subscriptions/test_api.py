"""Subscriber import through the API: the admin's import as a job (202 and a link), its progress and
then the line-numbered report, double opt-in unless consent was given elsewhere, an Idempotency-Key
that never starts the same import twice, and the import visible only to its own account."""

from __future__ import annotations

import io
import threading

from sqlalchemy import func, select

from services.worker import job_functions
from shared.jobs import run_next_job
from shared.models import Job, OutboxMail, Subscription, SubscriptionEvent, SubscriptionStatus
from tests.api_keys import bearer, new_key

CSV = (
    "E-post;Namn;Kommun\r\n"
    "anna@vastkom.example;Anna;Ale\r\n"
    "inte-en-adress;X;Ale\r\n"
    "ANNA@vastkom.example;Anna igen;Ale\r\n"
    "bo@vastkom.example;Bo;Borås\r\n"
)


def _upload(text: str = CSV, **fields) -> dict:
    return {"file": (io.BytesIO(text.encode("utf-8")), "personal.csv"), **fields}


def _run_job(app) -> None:
    svc = app.extensions["utskick"]
    contexts = {"mailer": app.test_request_context}
    assert run_next_job(svc.db, svc.config, job_functions(), threading.Event(), contexts) == 1


def _count(app, query) -> int:
    with app.extensions["utskick"].db.sessions() as s:
        return s.scalar(query)


def test_an_import_runs_as_a_job_with_progress_and_a_line_numbered_report(app, client):
    h = bearer(new_key(app, ["mailer:write"]))
    started = client.post("/api/v1/imports", headers=h, data=_upload(), content_type="multipart/form-data")
    assert started.status_code == 202, started.json
    assert started.json["status"] == "queued" and started.json["report"] is None
    assert started.headers["Location"] == started.json["url"]
    assert _count(app, select(func.count()).select_from(Subscription)) == 0  # the worker does it

    _run_job(app)
    done = client.get(started.json["url"], headers=h)
    assert done.status_code == 200
    assert done.json["status"] == "done" and done.json["percent"] == 100
    report = done.json["report"]
    assert "Importerade: 2" in report["summary"]
    assert [(line["line"], line["value"]) for line in report["lines"]] == [
        (3, "inte-en-adress"),
        (4, "ANNA@vastkom.example"),
    ]
    # Double opt-in as from the admin's import: a confirmation mail each, waiting until confirmed.
    assert _count(app, select(func.count()).where(Subscription.status == SubscriptionStatus.PENDING)) == 2
    assert _count(app, select(func.count()).select_from(OutboxMail)) == 2
    detail = _count(app, select(SubscriptionEvent.detail).where(SubscriptionEvent.kind == "imported").limit(1))
    assert "API key 1 (test)" in (detail or "")


def test_consent_given_elsewhere_makes_them_active_and_the_report_can_be_english(app, client):
    h = bearer(new_key(app, ["mailer:write"]))
    started = client.post(
        "/api/v1/imports",
        headers=h,
        data=_upload(consent_given_elsewhere="true", language="en"),
        content_type="multipart/form-data",
    )
    assert started.json["consent_given_elsewhere"] is True
    _run_job(app)
    report = client.get(started.json["url"], headers=h).json["report"]
    assert "Imported: 2" in report["summary"]
    assert _count(app, select(func.count()).where(Subscription.status == SubscriptionStatus.ACTIVE)) == 2
    assert _count(app, select(func.count()).select_from(OutboxMail)) == 0


def test_a_retry_with_the_same_idempotency_key_starts_nothing_more(app, client):
    h = {**bearer(new_key(app, ["mailer:write"])), "Idempotency-Key": "import-december"}
    first = client.post("/api/v1/imports", headers=h, data=_upload(), content_type="multipart/form-data")
    again = client.post("/api/v1/imports", headers=h, data=_upload(), content_type="multipart/form-data")
    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true" and again.json["id"] == first.json["id"]
    assert _count(app, select(func.count()).select_from(Job)) == 1
    other_file = client.post(
        "/api/v1/imports", headers=h, data=_upload("email\nbo@vastkom.example\n"), content_type="multipart/form-data"
    )
    assert other_file.status_code == 422  # the same key for another file is a mistake, not a retry
    assert _count(app, select(func.count()).select_from(Job)) == 1


def test_what_cannot_be_imported_is_refused_at_once(app, client):
    h = bearer(new_key(app, ["mailer:write"]))

    def post(**data):
        return client.post("/api/v1/imports", headers=h, data=data, content_type="multipart/form-data")

    no_column = post(file=(io.BytesIO(b"namn;kommun\nAnna;Ale\n"), "fel.csv"))
    assert no_column.status_code == 422 and no_column.json["errors"][0]["field"] == "body.file"
    assert "e-post" in no_column.json["errors"][0]["message"]
    empty = post(file=(io.BytesIO(b""), "tom.csv"))
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "body.file"
    missing = post(list="nyhetsbrev")
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "body.file"
    unknown = post(**_upload(list="finns-inte"))
    assert unknown.status_code == 404 and unknown.json["errors"][0]["field"] == "body.list"
    assert _count(app, select(func.count()).select_from(Job)) == 0


def test_an_import_is_seen_only_by_its_own_account(app, client):
    mine = bearer(new_key(app, ["mailer:write"]))
    other = bearer(new_key(app, ["mailer:write"], email="annan@vastkom.example"))
    started = client.post("/api/v1/imports", headers=mine, data=_upload(), content_type="multipart/form-data")
    assert client.get(started.json["url"], headers=other).status_code == 404
    assert client.get(started.json["url"], headers=mine).status_code == 200
    assert client.get("/api/v1/imports/999", headers=mine).status_code == 404


def test_a_file_over_the_admin_imports_limit_is_refused_before_it_is_read(app, client):
    h = bearer(new_key(app, ["mailer:write"]))
    too_big = "email\n" + "a@vastkom.example\n" * (20 * 1024 * 1024 // 18 + 1)
    refused = client.post("/api/v1/imports", headers=h, data=_upload(too_big), content_type="multipart/form-data")
    assert refused.status_code == 413 and refused.mimetype == "application/problem+json"
    assert _count(app, select(func.count()).select_from(Job)) == 0
