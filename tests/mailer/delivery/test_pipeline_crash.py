"""A worker process killed (SIGKILL) or stopped (SIGTERM) in the middle of sending an issue:
every subscriber still gets it, and only the killed worker's claimed, unrecorded mails may arrive twice."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from services.mailer.issues import domain
from shared.clock import utcnow
from shared.models import Delivery
from tests.mailer.issue_fixtures import DEMO_ISSUE, add_subscribers
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]
SUBSCRIBERS = 300


def worker_env(config, smtp_server, **extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": config.database_url,
        "MAIL_URL": smtp_server.url,
        "MAIL_FROM": config.mail_from,
        "SECRET_KEYS": ",".join(config.secret_keys),
        "MAILER_URL": config.mailer_url,
        "SURVEY_URL": config.survey_url,
        "UTSKICK_VAR_DIR": str(config.var_dir),
        "SMTP_CONNECTIONS": "3",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def start_worker(env, *, once: bool = False) -> subprocess.Popen:
    command = [sys.executable, "-m", "services.cli", "worker"] + (["--once"] if once else [])
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def send_issue(app) -> int:
    db = app.extensions["utskick"].db
    with db.transaction() as session:
        add_subscribers(session, SUBSCRIBERS)
    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue_from_markdown_file(session, DEMO_ISSUE)
        assert domain.send_now(session, app.extensions["utskick"].config, issue) == SUBSCRIBERS
        return issue.id


def received_per_address(smtp_server) -> collections.Counter:
    return collections.Counter(m.rcpt_tos[0] for m in smtp_server.messages)


def test_sigkill_mid_send_then_restart_delivers_everyone_with_few_duplicates(smtp_app, smtp_config, smtp_server):
    issue_id = send_issue(smtp_app)
    db = smtp_app.extensions["utskick"].db
    # A rate limit keeps the send slow enough to kill it in the middle.
    env = worker_env(smtp_config, smtp_server, SEND_RATE_PER_SECOND="150")
    worker = start_worker(env)
    try:
        wait_until(lambda: smtp_server.count >= 60, timeout=30, what="60 mails")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    assert worker.returncode == -signal.SIGKILL
    with db.transaction() as session:
        in_hand = session.scalar(
            select(func.count()).where(Delivery.issue_id == issue_id, Delivery.status == "sending")
        )
    assert 0 < smtp_server.count < SUBSCRIBERS  # it really died mid-send
    assert in_hand > 0

    # A restart before the dead worker's lease runs out leaves its mails alone: it might still be alive.
    subprocess.run(
        [sys.executable, "-m", "services.cli", "worker", "--once"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with db.transaction() as session:
        still_held = session.scalar(
            select(func.count()).where(Delivery.issue_id == issue_id, Delivery.status == "sending")
        )
    assert still_held == in_hand
    # The lease runs out (time passes), and the next run takes them over.
    with db.transaction() as session:
        session.execute(
            update(Delivery).where(Delivery.status == "sending").values(lease_until=utcnow() - timedelta(seconds=1))
        )
    subprocess.run(
        [sys.executable, "-m", "services.cli", "worker", "--once"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )

    everyone = {f"person{i}@example.org" for i in range(SUBSCRIBERS)}
    wait_until(lambda: set(received_per_address(smtp_server)) == everyone, what="a mail to every subscriber")
    received = received_per_address(smtp_server)
    assert set(received) == everyone  # nobody missed
    duplicates = sum(received.values()) - SUBSCRIBERS
    assert duplicates <= in_hand  # at most the killed worker's unfinished batch
    with db.transaction() as session:
        counts = dict(
            session.execute(
                select(Delivery.status, func.count()).where(Delivery.issue_id == issue_id).group_by(Delivery.status)
            ).all()
        )
    assert counts == {"sent": SUBSCRIBERS}


def test_sigterm_finishes_the_mails_in_hand_and_loses_nothing(smtp_app, smtp_config, smtp_server):
    issue_id = send_issue(smtp_app)
    db = smtp_app.extensions["utskick"].db
    env = worker_env(smtp_config, smtp_server, SEND_RATE_PER_SECOND="150")
    worker = start_worker(env)
    wait_until(lambda: smtp_server.count >= 60, timeout=30, what="60 mails")
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output.decode()

    with db.transaction() as session:
        counts = dict(
            session.execute(
                select(Delivery.status, func.count()).where(Delivery.issue_id == issue_id).group_by(Delivery.status)
            ).all()
        )
    smtp_server.wait_for(counts.get("sent", 0))
    assert "sending" not in counts  # nothing left claimed: the rest was handed back
    assert counts["sent"] == smtp_server.count < SUBSCRIBERS  # everything sent was recorded
    assert counts["sent"] + counts["queued"] == SUBSCRIBERS

    # Another worker finishes the issue without sending anything twice.
    subprocess.run(
        [sys.executable, "-m", "services.cli", "worker", "--once"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    smtp_server.wait_for(SUBSCRIBERS)
    received = received_per_address(smtp_server)
    assert len(received) == SUBSCRIBERS and set(received.values()) == {1}
