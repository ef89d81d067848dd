"""The send pipeline against a real SMTP server: every subscriber once, personal links, skips,
retries, failures, bounces, pause, leases, rate limit, DKIM."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import dkim
import pytest
from sqlalchemy import func, select, update

from services.mailer.delivery.pipeline import IssuePipeline, RateLimiter, claim
from services.mailer.issues import domain
from shared.clock import utcnow
from shared.mail.outbox import enqueue
from shared.models import Delivery, Issue, MailKind, SendGrant, Subscription, Suppression
from tests.mailer.conftest import link, mail_html, mail_text
from tests.mailer.issue_fixtures import DEMO_ISSUE, add_subscribers


def start_issue(app, *, subscribers: int = 5, send: bool = True) -> int:
    db = app.extensions["utskick"].db
    config = app.extensions["utskick"].config
    with db.transaction() as session:
        add_subscribers(session, subscribers)
    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue_from_markdown_file(session, DEMO_ISSUE)
        if send:
            domain.send_now(session, config, issue)
        return issue.id


def statuses(db, issue_id: int) -> dict[str, int]:
    with db.transaction() as session:
        return dict(
            session.execute(
                select(Delivery.status, func.count()).where(Delivery.issue_id == issue_id).group_by(Delivery.status)
            ).all()
        )


def pipeline(app, **options) -> IssuePipeline:
    svc = app.extensions["utskick"]
    return IssuePipeline(svc.config, svc.db, **options)


def test_every_subscriber_gets_one_personal_mail(smtp_app, smtp_server):
    issue_id = start_issue(smtp_app, subscribers=12)
    assert pipeline(smtp_app).run() == 12

    messages = smtp_server.wait_for(12)
    recipients = sorted(m.rcpt_tos[0] for m in messages)
    assert recipients == sorted(f"person{i}@example.org" for i in range(12))
    stop_paths = {link(m.message, "unsubscribe") for m in messages}
    assert len(stop_paths) == 12  # each mail its own stop link
    first = next(m for m in messages if m.rcpt_tos == ("person3@example.org",))
    msg = first.message
    assert msg["To"] == "Person 3 <person3@example.org>"
    assert msg["Subject"].startswith("Nyhetsbrev 2025:10 – Dialogdag")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link(msg, "unsubscribe") in msg["List-Unsubscribe"]
    assert "mailto:" in msg["List-Unsubscribe"]
    assert "Person 3 (person3@example.org)" in mail_text(msg)
    html = mail_html(msg)
    assert link(msg, "unsubscribe") in html and 'id="upphandling"' in html and "<table" in html
    assert all(len(line) <= 998 for line in first.raw.split(b"\r\n"))
    with smtp_app.app_context():
        assert statuses(smtp_app.extensions["utskick"].db, issue_id) == {"sent": 12}
    with smtp_app.extensions["utskick"].db.transaction() as session:
        assert session.get(Issue, issue_id).status == "sent"


def test_the_stop_link_in_an_issue_works(smtp_app, smtp_server):
    start_issue(smtp_app, subscribers=1)
    pipeline(smtp_app).run()
    path = link(smtp_server.wait_for(1)[0].message, "unsubscribe")
    client = smtp_app.test_client()
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code < 400
    with smtp_app.extensions["utskick"].db.transaction() as session:
        assert session.scalar(select(Subscription.status)) == "unsubscribed"


def test_people_who_stop_or_are_suppressed_before_their_mail_leaves_are_skipped(smtp_app, smtp_server):
    issue_id = start_issue(smtp_app, subscribers=4)
    db = smtp_app.extensions["utskick"].db
    with db.transaction() as session:
        first = session.scalars(select(Subscription).order_by(Subscription.id)).first()
        first.status = "unsubscribed"
        session.add(Suppression(email="person1@example.org", reason="hard_bounce"))
    pipeline(smtp_app).run()
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(2)) == ["person2@example.org", "person3@example.org"]
    assert statuses(db, issue_id) == {"sent": 2, "skipped": 2}


def test_fan_out_takes_only_active_unsuppressed_subscribers_and_runs_once(app):
    db = app.extensions["utskick"].db
    config = app.extensions["utskick"].config
    with db.transaction() as session:
        add_subscribers(session, 3)
        add_subscribers(session, 2, prefix="pending", status="pending")
        add_subscribers(session, 2, prefix="gone", status="unsubscribed")
        session.add(Suppression(email="person0@example.org", reason="hard_bounce"))
    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue_from_markdown_file(session, DEMO_ISSUE)
        assert domain.send_now(session, config, issue) == 2
        assert domain.fan_out(session, issue, utcnow()) == 0  # a second run adds nobody
        emails = sorted(session.scalars(select(Delivery.email)))
    assert emails == ["person1@example.org", "person2@example.org"]


def test_temporary_failures_are_retried_later_then_delivered(smtp_app, smtp_server):
    issue_id = start_issue(smtp_app, subscribers=3)
    db = smtp_app.extensions["utskick"].db
    smtp_server.respond_with(451, "4.3.0 try again later", times=1, on="RCPT")
    pipeline(smtp_app, connections=1).run()
    assert statuses(db, issue_id) == {"sent": 2, "queued": 1}
    with db.transaction() as session:
        waiting = session.scalar(select(Delivery).where(Delivery.status == "queued"))
        assert waiting.attempts == 1 and "451" in waiting.last_error
        assert waiting.due_at > utcnow() + timedelta(seconds=30)  # backoff, not at once
        # Time passes: make it due.
        waiting.due_at = utcnow() - timedelta(seconds=1)
    pipeline(smtp_app).run()
    assert statuses(db, issue_id) == {"sent": 3}
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(3)) == [f"person{i}@example.org" for i in range(3)]


def test_a_lost_connection_is_retried_and_the_connection_reopened(smtp_app, smtp_server):
    issue_id = start_issue(smtp_app, subscribers=3)
    db = smtp_app.extensions["utskick"].db
    smtp_server.drop_connection_next()
    pipeline(smtp_app, connections=1).run()
    counts = statuses(db, issue_id)
    assert counts == {"sent": 2, "queued": 1}
    with db.transaction() as session:
        session.execute(
            update(Delivery).where(Delivery.status == "queued").values(due_at=utcnow() - timedelta(seconds=1))
        )
    pipeline(smtp_app, connections=1).run()
    assert statuses(db, issue_id) == {"sent": 3}
    assert len(smtp_server.wait_for(3)) == 3


def test_retries_give_up_after_48_hours(smtp_app, smtp_server):
    issue_id = start_issue(smtp_app, subscribers=1)
    db = smtp_app.extensions["utskick"].db
    with db.transaction() as session:
        session.execute(update(Delivery).values(created_at=utcnow() - timedelta(hours=49)))
    smtp_server.respond_with(421, "4.7.0 too busy", times=1, on="RCPT")
    pipeline(smtp_app).run()
    with db.transaction() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery.status == "failed" and "421" in delivery.last_error
        assert session.get(Issue, issue_id).status == "sent"


def test_a_5xx_fails_with_the_servers_text_and_a_hard_bounce_suppresses_for_both_services(smtp_app, smtp_server):
    issue_id = start_issue(smtp_app, subscribers=3)
    db = smtp_app.extensions["utskick"].db
    smtp_server.respond_with(550, "5.1.1 <person0@example.org>: Recipient address rejected: User unknown", on="RCPT")
    smtp_server.respond_with(554, "5.7.1 Message rejected as spam", on="DATA")
    pipeline(smtp_app, connections=1).run()
    assert statuses(db, issue_id) == {"sent": 1, "failed": 2}
    with db.transaction() as session:
        errors = dict(
            session.execute(select(Delivery.email, Delivery.last_error).where(Delivery.status == "failed")).all()
        )
        assert "User unknown" in errors["person0@example.org"]
        assert "spam" in errors["person1@example.org"]
        suppressed = dict(session.execute(select(Suppression.email, Suppression.reason)).all())
    # Only the unknown user is suppressed: a spam verdict says nothing about the address.
    assert suppressed == {"person0@example.org": "hard_bounce"}
    # The outbox (used by the survey service too) refuses the address from now on.
    with db.transaction() as session:
        mail = enqueue(
            session,
            smtp_app.extensions["utskick"].config,
            kind=MailKind.SURVEY_INVITATION,
            to_email="person0@example.org",
            subject="Enkät",
            text="Hej",
        )
        session.flush()
        assert mail.status == "suppressed"


def test_pause_stops_sending_resume_continues_cancel_drops_the_rest(smtp_app, smtp_server):
    issue_id = start_issue(smtp_app, subscribers=6)
    db = smtp_app.extensions["utskick"].db
    with db.transaction() as session:
        domain.pause(session, session.get(Issue, issue_id))
    assert pipeline(smtp_app).run() == 0
    assert smtp_server.count == 0
    with db.transaction() as session:
        domain.resume(session, session.get(Issue, issue_id))
    first = pipeline(smtp_app, batch_size=2, connections=1)
    with db.transaction() as session:
        claimed = claim(session, "test-worker", utcnow(), timedelta(minutes=2), 2)
    assert len(claimed) == 2
    with db.transaction() as session:
        assert domain.cancel(session, session.get(Issue, issue_id)) == 4
    first.run()
    assert statuses(db, issue_id) == {"cancelled": 4, "sending": 2}
    assert smtp_server.count == 0


def test_an_expired_lease_is_taken_over_and_a_live_one_is_not(smtp_app, smtp_server):
    issue_id = start_issue(smtp_app, subscribers=4)
    db = smtp_app.extensions["utskick"].db
    with db.transaction() as session:
        held = claim(session, "dead-worker", utcnow(), timedelta(minutes=2), 2)
    assert len(held) == 2
    pipeline(smtp_app).run()
    assert statuses(db, issue_id) == {"sent": 2, "sending": 2}  # the holder may still be alive
    with db.transaction() as session:
        session.execute(
            update(Delivery).where(Delivery.status == "sending").values(lease_until=utcnow() - timedelta(seconds=1))
        )
    pipeline(smtp_app).run()
    assert statuses(db, issue_id) == {"sent": 4}
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(4)) == [f"person{i}@example.org" for i in range(4)]


def test_stop_hands_unsent_deliveries_back(smtp_app, smtp_server):
    issue_id = start_issue(smtp_app, subscribers=20)
    db = smtp_app.extensions["utskick"].db
    svc = smtp_app.extensions["utskick"]
    slow = IssuePipeline(svc.config.with_(send_rate_per_second=10), svc.db, connections=1, batch_size=10)
    stop = threading.Event()
    timer = threading.Timer(0.35, stop.set)
    timer.start()
    slow.run(stop)
    counts = statuses(db, issue_id)
    assert "sending" not in counts
    assert 1 <= counts["sent"] < 20 and counts["sent"] + counts["queued"] == 20
    smtp_server.wait_for(counts["sent"])
    assert smtp_server.count == counts["sent"]  # nothing sent that is not recorded


def test_rate_limit_keeps_to_the_configured_pace(smtp_app, smtp_server):
    start_issue(smtp_app, subscribers=6)
    svc = smtp_app.extensions["utskick"]
    limited = IssuePipeline(svc.config.with_(send_rate_per_second=2), svc.db, connections=3)
    started = time.monotonic()
    limited.run()
    elapsed = time.monotonic() - started
    assert smtp_server.count == 6
    assert elapsed >= 1.9  # 2 per second over three connections: two at 0 s, two at 1 s, two at 2 s


def test_sliding_window_counts_per_hour(db):
    limiter = RateLimiter(db, per_hour=3)
    stop = threading.Event()
    assert all(limiter.acquire(stop, max_wait=0) for _ in range(3))
    assert limiter.acquire(stop, max_wait=0.05) is False


def test_workers_share_one_rate_limit_kept_in_the_database(db):
    """Several workers (here two limiters, as two processes would have) send at most the limit together."""
    workers = [RateLimiter(db, per_hour=7) for _ in range(2)]
    stop = threading.Event()
    taken = [0, 0]
    with ThreadPoolExecutor(4) as pool:

        def take(i: int) -> None:
            while workers[i].acquire(stop, max_wait=0):
                taken[i] += 1

        list(pool.map(take, [0, 1, 0, 1]))
    assert sum(taken) == 7
    with db.sessions() as s:
        assert s.scalar(select(func.sum(SendGrant.mails))) == 7


@pytest.fixture
def dkim_key(tmp_path):
    import subprocess

    path = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(path), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    return path, public


def test_issue_mails_and_outbox_mails_are_dkim_signed(smtp_config, smtp_server, dkim_key):
    import base64

    from services.mailer import create_app

    path, public = dkim_key
    config = smtp_config.with_(dkim_domain="utskick.example", dkim_selector="s1", dkim_key_file=path)
    app = create_app(config)
    start_issue(app, subscribers=1)
    IssuePipeline(config, app.extensions["utskick"].db).run()
    from services.worker import build_jobs

    with app.extensions["utskick"].db.transaction() as session:
        enqueue(session, config, kind="confirmation", to_email="ny@example.org", subject="Bekräfta", text="Hej")
    build_jobs(config, app.extensions["utskick"].db)[0](threading.Event())
    messages = smtp_server.wait_for(2)

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name, timeout=5):
        assert name == b"s1._domainkey.utskick.example."
        return record

    for received in messages:
        assert received.raw.startswith(b"DKIM-Signature:")
        assert dkim.verify(received.raw, dnsfunc=dns)


def test_the_worker_starts_a_scheduled_issue_when_due_and_delivers_it(smtp_app, smtp_config, smtp_server):
    from services.worker import run

    issue_id = start_issue(smtp_app, subscribers=3, send=False)
    db = smtp_app.extensions["utskick"].db
    with smtp_app.app_context(), db.transaction() as session:
        domain.schedule(session, smtp_config, session.get(Issue, issue_id), utcnow() + timedelta(hours=1))
    assert run(smtp_config, once=True) == 0  # not due yet
    assert smtp_server.count == 0
    with db.transaction() as session:
        session.get(Issue, issue_id).scheduled_at = utcnow() - timedelta(seconds=1)  # the hour has passed
    run(smtp_config, once=True)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(3)) == [f"person{i}@example.org" for i in range(3)]
    with db.transaction() as session:
        assert session.get(Issue, issue_id).status == "sent"


def test_the_log_names_deliveries_by_id_never_by_address(smtp_app, smtp_server, caplog):
    start_issue(smtp_app, subscribers=2)
    smtp_server.respond_with(550, "5.1.1 <person0@example.org>: User unknown", on="RCPT")
    smtp_server.respond_with(451, "4.2.1 <person1@example.org>: try later", on="RCPT")
    with caplog.at_level("INFO"):
        pipeline(smtp_app, connections=1).run()
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("shared", "services")))
    assert "failed: 550" in logged and "deferred: 451" in logged
    assert "example.org" not in logged
