"""Editors' pages: sign-in required, list with search/filter/counts, one person's record, CSV, GDPR."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from services.mailer.subscriptions.domain import confirm_mail_key, stop_mail_key
from shared import ratelimit
from shared.models import BounceEvent, OutboxMail, RateEvent, Subscriber, Subscription, SubscriptionEvent, Suppression
from tests.mailer.conftest import run_worker, sign_in, subscribe

ADMIN_PAGES = [
    "/admin/",
    "/admin/subscribers/",
    "/admin/subscribers/import",
    "/admin/subscribers/export.csv",
    "/admin/outbox/",
    "/admin/subscribers/1",
    "/admin/subscribers/1/export",
    "/admin/subscribers/1/erase",
]


def subscriber_id(app, email) -> int:
    with app.extensions["utskick"].db.sessions() as s:
        return s.scalar(select(Subscriber.id).where(Subscriber.email == email))


def test_every_admin_page_needs_a_login(app, client):
    subscribe(client, "anna@exempel.se")
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.location, path
    for path in ("/admin/subscribers/1/erase", "/admin/subscribers/1/export", "/admin/subscribers/import"):
        assert client.post(path).status_code == 302
    assert subscriber_id(app, "anna@exempel.se") is not None
    # An evaluator works in the survey service, not here.
    evaluator = sign_in(app, app.test_client(), role="evaluator", email="utv@vastkom.example")
    assert evaluator.get("/admin/subscribers/").status_code == 302


def test_list_search_filter_counts_and_pages(app, client, editor_client):
    for i in range(3):
        subscribe(client, f"person{i}@exempel.se", name=f"Person {i}")
    subscribe(client, "karin.ek@exempel.se", name="Karin Ek")
    with app.extensions["utskick"].db.transaction() as s:
        s.execute(Subscription.__table__.update().where(Subscription.id == 1).values(status="active"))

    page = editor_client.get("/admin/subscribers/")
    assert page.status_code == 200
    assert "4 prenumerationer" in page.text
    assert "karin.ek@exempel.se" in page.text
    counts = editor_client.get("/admin/subscribers/?status=active").text
    assert "1 prenumeration<" in counts and "person0@exempel.se" in counts and "person1@" not in counts

    found = editor_client.get("/admin/subscribers/?q=EK").text  # name, case-insensitive
    assert "karin.ek@exempel.se" in found and "person0@" not in found
    assert "0 prenumerationer" in editor_client.get("/admin/subscribers/?q=%25").text  # LIKE wildcard is literal
    assert editor_client.get("/admin/subscribers/?page=abc&list=x&status=nonsense").status_code == 200

    from services.mailer.subscriptions.people import search_subscriptions, status_counts

    with app.extensions["utskick"].db.sessions() as s:
        assert status_counts(s) == {"pending": 3, "active": 1, "unsubscribed": 0}
        second = search_subscriptions(s, page=2, per_page=3)
        assert (second.total, second.pages, second.page, len(second.rows)) == (4, 2, 2, 1)


def test_person_page_shows_consent_and_history(app, client, editor_client):
    client.post(
        "/subscribe",
        data={"email": "maria@exempel.se", "name": "Maria"},
        headers={"Referer": "https://vastkom.example/anmal"},
    )
    page = editor_client.get(f"/admin/subscribers/{subscriber_id(app, 'maria@exempel.se')}")
    assert page.status_code == 200
    for expected in (
        "https://vastkom.example/anmal",
        "127.0.0.1",
        "2026-11",
        "Anmälan",
        "Bekräftelsemejl skickat",
        "Bekräfta din prenumeration",
    ):
        assert expected in page.text
    assert editor_client.get("/admin/subscribers/999999").status_code == 404


def test_person_page_speaks_swedish_not_codes_and_gives_swedish_time(app, client, editor_client):
    subscribe(client, "kod@exempel.se", name="Kod")
    sid = subscriber_id(app, "kod@exempel.se")
    with app.extensions["utskick"].db.transaction() as s:
        s.execute(Subscription.__table__.update().values(requested_at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC)))
    mails = re.compile(
        r"<td>Bekräftelse av prenumeration</td><td>Bekräfta din prenumeration på Nyhetsbrevet</td>"
        r"<td>(.*?)</td>"
    )
    queued = editor_client.get(f"/admin/subscribers/{sid}").text
    assert mails.search(queued).group(1) == "I kö"
    assert run_worker(app) == 1
    page = editor_client.get(f"/admin/subscribers/{sid}").text
    assert mails.search(page).group(1) == "Skickat"
    assert ">2026-07-01 12:00</time>" in page  # requested 10:00 UTC, summer time
    assert "<dd>svenska</dd>" in page and "Bekräftad via länk i mejl (dubbel opt-in)" in page
    assert "Väntar på bekräftelse" in page
    for code in (">confirmation<", ">sent<", ">queued<", "UTC", ">sv<", "double-opt-in", ">requested<", ">pending<"):
        assert code not in page, code


def test_a_suppressed_person_shows_the_reason_in_words(app, client, editor_client):
    subscribe(client, "studsad@exempel.se")
    with app.extensions["utskick"].db.transaction() as s:
        s.add(
            Suppression(
                email="studsad@exempel.se", reason="hard_bounce", created_at=datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
            )
        )
    page = editor_client.get(f"/admin/subscribers/{subscriber_id(app, 'studsad@exempel.se')}").text
    assert "<dd>Permanent studs, <time" in page and ">2026-01-15 13:00</time>" in page and "hard_bounce" not in page


def test_gdpr_export_has_everything_we_hold(app, client, editor_client):
    subscribe(client, "insyn@exempel.se", name="Ingrid Syn")
    sid = subscriber_id(app, "insyn@exempel.se")
    confirm_step = editor_client.get(f"/admin/subscribers/{sid}/export")
    assert confirm_step.status_code == 200 and "Ladda ned" in confirm_step.text
    response = editor_client.post(f"/admin/subscribers/{sid}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["subscriber"]["email"] == "insyn@exempel.se" and data["subscriber"]["name"] == "Ingrid Syn"
    (sub,) = data["subscriptions"]
    assert sub["status"] == "pending" and sub["consent"]["text_version"] == "2026-11"
    assert [e["kind"] for e in sub["events"]] == ["requested", "confirmation_sent"]
    assert [m["kind"] for m in data["mails"]] == ["confirmation"]
    assert data["suppression"] is None
    assert data["newsletter_issues"] == [] and data["bounces"] == []


def test_gdpr_erasure_removes_the_person_and_suppresses_the_address(app, client, editor_client):
    subscribe(client, "Radera.Mig@exempel.se", name="Radera Mig")
    subscribe(client, "kvar@exempel.se")
    with app.extensions["utskick"].db.transaction() as s:
        s.add(BounceEvent(email="radera.mig@exempel.se", kind="soft", source="smtp", detail="452 mailbox full"))
    sid = subscriber_id(app, "Radera.Mig@exempel.se")
    step = editor_client.get(f"/admin/subscribers/{sid}/erase")
    assert step.status_code == 200 and "spärrlistan" in step.text  # says what is kept and why
    assert subscriber_id(app, "Radera.Mig@exempel.se") == sid  # GET erased nothing

    response = editor_client.post(f"/admin/subscribers/{sid}/erase")
    assert response.status_code == 303
    db = app.extensions["utskick"].db
    with db.sessions() as s:
        assert s.scalar(select(Subscriber).where(Subscriber.id == sid)) is None
        assert s.scalar(select(func.count()).select_from(Subscription).where(Subscription.subscriber_id == sid)) == 0
        assert s.scalar(select(func.count()).select_from(SubscriptionEvent)) == 2  # only kvar@'s events remain
        assert s.scalar(select(Suppression.reason).where(Suppression.email == "radera.mig@exempel.se")) == "erasure"
        mails = s.execute(select(OutboxMail.recipient, OutboxMail.subject, OutboxMail.message, OutboxMail.status)).all()
        assert ("", "", b"", "suppressed") in mails  # the queued confirmation is blanked and will not go
        assert all(b"Radera" not in m.message and "radera" not in m.recipient.lower() for m in mails)
        counted = [ratelimit.key_hash(k("radera.mig@exempel.se")) for k in (confirm_mail_key, stop_mail_key)]
        assert s.scalar(select(func.count()).select_from(RateEvent).where(RateEvent.key.in_(counted))) == 0
        assert s.scalar(select(func.count()).select_from(BounceEvent)) == 0
    # Subscribing again stores nothing and sends nothing.
    subscribe(client, "radera.mig@exempel.se")
    assert subscriber_id(app, "radera.mig@exempel.se") is None


def test_web_import_with_report_and_export(app, editor_client):
    page = editor_client.get("/admin/subscribers/import")
    assert page.status_code == 200 and "Samtycke är redan givet" in page.text
    data = (
        "\ufeffE-post;Namn\r\n"
        "anna@exempel.se;Anna Andersson\r\n"
        "fel-adress;Fel\r\n"
        "ANNA@exempel.se;Anna A\r\n"
        "\r\n"
        "bo@Exempel.SE;Bo Ek\r\n"
    )
    response = editor_client.post(
        "/admin/subscribers/import",
        data={"file": (io.BytesIO(data.encode("utf-8")), "lista.csv"), "list_id": "1", "consented": "y"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    text = response.text
    assert "Importerade: 2" in text and "Ogiltiga rader: 1" in text and "Dubbletter i filen (slogs ihop): 1" in text
    assert "<td>3</td><td>fel-adress</td>" in text  # invalid row with its line number
    with app.extensions["utskick"].db.sessions() as s:
        rows = s.execute(
            select(Subscriber.email, Subscription.status, Subscription.consent_method).join(Subscription)
        ).all()
        assert sorted(rows) == [("anna@exempel.se", "active", "import"), ("bo@exempel.se", "active", "import")]
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 0  # consented: no confirmation mails
        detail = s.scalar(select(SubscriptionEvent.detail).where(SubscriptionEvent.kind == "imported"))
        assert "redaktor@vastkom.example" in detail

    again = editor_client.post(
        "/admin/subscribers/import",
        data={"file": (io.BytesIO(b"e-post\r\nanna@exempel.se\r\n"), "igen.csv"), "list_id": "1"},
        content_type="multipart/form-data",
    )
    assert "<td>2</td><td>anna@exempel.se</td><td>finns redan, aktiv</td>" in again.text

    export = editor_client.get("/admin/subscribers/export.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    lines = export.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "email,name,status,requested_at,confirmed_at,unsubscribed_at"
    assert lines[1].startswith("anna@exempel.se,Anna Andersson,active,")

    bad = editor_client.post("/admin/subscribers/import", data={"list_id": "1"}, content_type="multipart/form-data")
    assert bad.status_code == 400 and "Välj en CSV-fil" in bad.text
    empty = editor_client.post(
        "/admin/subscribers/import",
        data={"file": (io.BytesIO(b""), "tom.csv"), "list_id": "1"},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 400
