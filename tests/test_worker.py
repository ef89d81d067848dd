"""The worker process: delivers what the services leave in the outbox, and stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

from sqlalchemy import func, select

from services.worker import build_jobs
from shared.clock import utcnow
from shared.mail.outbox import enqueue
from shared.models import MailKind, OutboxMail, RateEvent


def worker_env(config, smtp_server):
    return {
        **os.environ,
        "DATABASE_URL": config.database_url,
        "MAIL_URL": smtp_server.url,
        "MAIL_FROM": config.mail_from,
        "SECRET_KEYS": ",".join(config.secret_keys),
        "UTSKICK_VAR_DIR": str(config.var_dir),
    }


def queue(db, config, count):
    with db.transaction() as session:
        for n in range(count):
            enqueue(
                session, config, kind=MailKind.CONFIRMATION, to_email=f"p{n}@kommun.example", subject="Hej", text="Hej!"
            )


def statuses(db):
    with db.sessions() as session:
        return dict(session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all())


def test_worker_once_delivers_everything_due_and_exits(db, config, smtp_server):
    queue(db, config, 3)
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "worker", "--once"],
        env=worker_env(config, smtp_server),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert smtp_server.count == 3
    assert statuses(db) == {"sent": 3}


def test_sigterm_lets_the_worker_finish_and_stop(db, config, smtp_server):
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "worker"],
        env=worker_env(config, smtp_server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        queue(db, config, 5)
        smtp_server.wait_for(5, timeout=30)
        queue(db, config, 2)  # arrives while the worker runs; delivered before or after SIGTERM, never lost
        smtp_server.wait_for(6, timeout=30)  # SIGTERM while the worker is at the new mail
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    counts = statuses(db)
    assert counts.get("sent", 0) == smtp_server.count  # nothing marked sent that was not received
    assert counts.get("sent", 0) + counts.get("queued", 0) == 7  # and nothing lost


def add_rate_events(db):
    with db.transaction() as session:
        session.add(RateEvent(key="form:192.0.2.1", at=utcnow() - timedelta(days=3)))
        session.add(RateEvent(key="form:192.0.2.2", at=utcnow() - timedelta(hours=1)))


def rate_event_keys(db):
    with db.sessions() as session:
        return session.scalars(select(RateEvent.key).order_by(RateEvent.key)).all()


def test_worker_forgets_rate_limit_counts_older_than_two_days(db, config, smtp_server):
    add_rate_events(db)
    subprocess.run(
        [sys.executable, "-m", "services.cli", "worker", "--once"],
        env=worker_env(config, smtp_server),
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert rate_event_keys(db) == ["form:192.0.2.2"]


def test_housekeeping_runs_on_the_first_pass_then_hourly_even_just_after_boot(db, config):
    now = [5.0]  # monotonic time on a machine that booted five seconds ago
    jobs = build_jobs(config, db, clock=lambda: now[0])
    housekeeping = next(job for job in jobs if job.__name__ == "housekeeping")
    stop = threading.Event()

    add_rate_events(db)
    assert housekeeping(stop) == 1
    assert rate_event_keys(db) == ["form:192.0.2.2"]

    add_rate_events(db)
    now[0] += 3599
    assert housekeeping(stop) == 0  # within the hour: nothing done
    now[0] += 1
    assert housekeeping(stop) == 1
    assert rate_event_keys(db) == ["form:192.0.2.2", "form:192.0.2.2"]


def test_housekeeping_forgets_stored_api_answers_after_a_day(db, config, passwords):
    from datetime import timedelta

    from shared.accounts import create_admin
    from shared.clock import utcnow
    from shared.models import ApiKey, IdempotentCall

    with db.transaction() as session:
        account = create_admin(session, passwords, "api@vastkom.example", "ett långt lösenord", "admin")
        key = ApiKey(account_id=account.id, name="t", prefix="utk_", key_hash="0" * 64, scopes=["mailer:write"])
        session.add(key)
        session.flush()
        for name, age in (("old", timedelta(days=1, minutes=1)), ("new", timedelta(hours=23))):
            session.add(
                IdempotentCall(api_key_id=key.id, idempotency_key=name, fingerprint="f", created_at=utcnow() - age)
            )
    housekeeping = next(job for job in build_jobs(config, db) if job.__name__ == "housekeeping")
    assert housekeeping(threading.Event()) == 1
    with db.sessions() as session:
        assert session.scalars(select(IdempotentCall.idempotency_key)).all() == ["new"]


def test_the_worker_seals_anonymous_responses_of_past_days_on_its_first_pass_then_each_minute(db, config):
    from services.survey import create_app
    from services.survey.responses.storage import store_complete_response
    from services.survey.surveys.domain import create_survey, open_survey
    from shared.models import Participant, Response
    from tests.survey.conftest import PAGE1, PAGE2, PAGE3, millennium

    def submit(day) -> str:
        with create_app(config).test_request_context(), db.transaction() as session:
            survey = create_survey(session, millennium())
            open_survey(session, survey)
            person = Participant(survey_id=survey.id, email=f"{day:%d}@kommun.example", name="", attributes={})
            session.add(person)
            session.flush()
            return store_complete_response(session, survey, {**PAGE1, **PAGE2, **PAGE3}, person, now=day)

    now = [5.0]
    seal = next(
        job for job in build_jobs(config, db, clock=lambda: now[0]) if job.__name__ == "seal_anonymous_responses"
    )
    yesterdays = submit(utcnow() - timedelta(days=1))
    todays = submit(utcnow())
    assert seal(threading.Event()) == 1
    with db.sessions() as session:
        waiting = session.scalars(select(Response.id).where(Response.awaiting_seal)).all()
        assert waiting == [todays] and yesterdays not in session.scalars(select(Response.id)).all()
    yesterdays = submit(utcnow() - timedelta(days=1))  # a submit that began before midnight
    now[0] += 59
    assert seal(threading.Event()) == 0  # within the minute: nothing done
    now[0] += 1
    assert seal(threading.Event()) == 1


def test_the_worker_posts_webhooks_under_the_deployments_address_rules(db, config, passwords):
    """WEBHOOK_ALLOW_PRIVATE off (the default): a webhook to loopback is refused at delivery; on: posted."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from services.mailer.bounces.domain import record_bounce
    from shared.accounts import create_admin
    from shared.api.destinations import Rules
    from shared.api.webhooks import create_webhook
    from shared.models import BounceKind, BounceSource, WebhookDelivery

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with db.transaction() as session:
            account = create_admin(session, passwords, "it@vastkom.example", "ett långt lösenord", "admin")
            url = f"http://127.0.0.1:{server.server_port}/hook"
            create_webhook(
                session, account, "mailer", url, ["bounce"], rules=Rules(allow_http=True, allow_private=True)
            )
            record_bounce(session, "x@vastkom.example", BounceKind.HARD, source=BounceSource.DSN)

        def webhooks(cfg):
            return next(job for job in build_jobs(cfg, db) if job.__name__ == "webhooks")

        assert webhooks(config.with_(webhook_allow_http=True))(threading.Event()) == 1
        with db.transaction() as session:
            delivery = session.scalar(select(WebhookDelivery))
            assert received == [] and "loopback" in delivery.last_error
            delivery.due_at = utcnow()
        allowed = config.with_(webhook_allow_http=True, webhook_allow_private=True)
        assert webhooks(allowed)(threading.Event()) == 1
        assert len(received) == 1
    finally:
        server.shutdown()
        server.server_close()
