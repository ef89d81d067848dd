"""Issue 9: the worker survives the database going away. A private PostgreSQL cluster is started on
a free port, stopped for some seconds in the middle of a send and started again: the same worker
process delivers everything, sending at most one batch twice; meanwhile public pages answer 503."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.mailer import create_app
from services.mailer.issues import domain
from shared.clock import utcnow
from shared.config import load_config
from shared.db import Database, upgrade
from shared.heartbeat import worker_health
from shared.mail.outbox import enqueue
from shared.models import Delivery, MailKind, OutboxMail
from tests.mailer.issue_fixtures import DEMO_ISSUE, add_subscribers
from tests.waiting import wait_until

SUBSCRIBERS = 400
OUTBOX_MAILS = 100
SEND_RATE = 60  # per second: the issue takes some seconds, so the outage falls in the middle
OUTAGE = 6.0  # seconds the database is away
RECORD_BATCH = 100  # the pipeline records sent mails every 100 (or quarter second): the most sent twice


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """A PostgreSQL cluster of the test's own, run as the ``postgres`` user when we are root."""

    def __init__(self, bindir: Path, directory: Path):
        self.bindir, self.data, self.port = bindir, directory / "data", _free_port()
        self.socket_dir = directory
        self.log = directory / "postgres.log"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{args[0]}: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def cluster():
    bindir = _postgres_bin()
    if bindir is None or (shutil.which("runuser") is None and os.geteuid() == 0):
        # A fault test that cannot run is a failure, never a skip (as for Chromium and PostgreSQL itself).
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) and runuser are needed: apt-get install postgresql")
    # Not under pytest's temporary folder: the postgres user may not enter root's.
    directory = Path(tempfile.mkdtemp(prefix="utskick-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = PrivateCluster(bindir, directory)
    cluster.init()
    cluster.start()
    yield cluster
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        cluster.stop()
    shutil.rmtree(directory, ignore_errors=True)


def _settings(cluster, smtp_server, tmp_path) -> dict[str, str]:
    return {
        "DATABASE_URL": cluster.url,
        "MAIL_URL": smtp_server.url,
        "MAIL_FROM": "Nyhetsbrevet <nyhetsbrev@utskick.example>",
        "SECRET_KEYS": "test-secret-key-0123456789",
        "MAILER_URL": "http://mailer.test",
        "SURVEY_URL": "http://survey.test",
        "UTSKICK_VAR_DIR": str(tmp_path / "var"),
        "SEND_RATE_PER_SECOND": str(SEND_RATE),
    }


def test_the_worker_delivers_everything_across_a_database_restart(cluster, smtp_server, tmp_path):
    settings = _settings(cluster, smtp_server, tmp_path)
    config = load_config(settings)
    upgrade(config.database_url)
    db = Database(config.database_url)
    app = create_app(config.with_(testing=True))
    with db.transaction() as session:
        add_subscribers(session, SUBSCRIBERS)
        for n in range(OUTBOX_MAILS):
            enqueue(
                session, config, kind=MailKind.CONFIRMATION, to_email=f"box{n}@example.org", subject="Hej", text="x"
            )
    with app.app_context(), db.transaction() as session:
        domain.send_now(session, config, domain.create_issue_from_markdown_file(session, DEMO_ISSUE))
    env = {**os.environ, **settings}
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen([sys.executable, "-m", "services.cli", "worker"], env=env, stderr=log, stdout=log)
    client = app.test_client()
    try:
        smtp_server.wait_for(OUTBOX_MAILS + 60, timeout=60)  # the send is under way
        db.dispose()
        cluster.stop()
        before = smtp_server.count
        # While the database is away: the friendly page, not a 500; the worker keeps running.
        page = client.get("/subscribe")
        assert page.status_code == 503 and "Försök igen om en stund" in page.text
        assert client.get("/healthz").status_code == 503
        time.sleep(OUTAGE)  # the outage itself, not a wait for something to happen
        assert worker.poll() is None, log_path.read_text()
        assert smtp_server.count < OUTBOX_MAILS + SUBSCRIBERS, "the send finished before the outage"
        cluster.start()

        def all_sent() -> bool:
            with db.sessions() as session:
                queued = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status != "sent"))
                unsent_box = session.scalar(
                    select(func.count()).select_from(OutboxMail).where(OutboxMail.status != "sent")
                )
            return queued == 0 and unsent_box == 0

        wait_until(all_sent, timeout=120, what="every mail sent after the restart")
        assert smtp_server.count > before
        with db.sessions() as session:
            assert worker_health(session, utcnow()).alive  # the heartbeat is written again
        assert client.get("/subscribe").status_code == 200
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=60)
        db.dispose()
    assert code == 0
    received = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    expected = {f"person{i}@example.org" for i in range(SUBSCRIBERS)} | {
        f"box{n}@example.org" for n in range(OUTBOX_MAILS)
    }
    assert set(received) == expected  # everyone, with no restart
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= RECORD_BATCH
    log_text = log_path.read_text()
    failures = Counter(re.findall(r"services.worker: (\w+) failed, trying again with back-off", log_text))
    assert failures["outbox"] == 1 and failures["deliver_issues"] == 1  # once per outage, not per try
    assert max(failures.values()) == 1 and "works again" in log_text
