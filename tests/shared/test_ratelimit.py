"""Rate limits hold under real parallel requests: gunicorn (two processes, eight threads each) behind
a trusted proxy, on SQLite and PostgreSQL. Before the counts were taken under a lock, 15 of 10
failed logins and 22 of 20 subscriptions went through."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.models import MailKind, OutboxMail
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
VISITOR = "203.0.113.9"  # what the proxy saw; the server itself only ever sees the proxy, 127.0.0.1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


@pytest.fixture
def mailer(cli_env, tmp_path):
    """The mailer on gunicorn with threads, told that one proxy stands in front of it."""
    port, access_log = free_port(), tmp_path / "access.log"
    env = {**os.environ, **cli_env, "TRUSTED_PROXIES": "1"}
    command = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "8"]
    command += ["--access-logfile", str(access_log), "services.mailer:create_app()"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: answers(port), timeout=30, what="gunicorn to answer")
        yield port, access_log
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def form(port: int, path: str) -> tuple[str, str]:
    """A visitor opening the form: their session cookie and the form's CSRF token."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"X-Forwarded-For": VISITOR})
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    return cookie, re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def post_together(port: int, path: str, bodies: list[str]) -> Counter:
    """Every visitor's form posted at the same moment; the statuses they got."""
    visitors = [form(port, path) for _ in bodies]
    start = threading.Barrier(len(bodies))
    statuses: Counter = Counter()

    def post(visitor: tuple[str, str], body: str) -> None:
        cookie, token = visitor
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "X-Forwarded-For": VISITOR,
        }
        start.wait()
        connection.request("POST", path, body=f"{body}&csrf_token={token}", headers=headers)
        statuses[connection.getresponse().status] += 1

    threads = [threading.Thread(target=post, args=pair) for pair in zip(visitors, bodies, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_parallel_failed_logins_stop_at_the_limit(mailer):
    port, access_log = mailer
    body = "email=admin%40vastkom.example&password=fel-l%C3%B6senord"
    assert post_together(port, "/admin/login", [body] * 15) == {200: 10, 429: 5}

    # The log names the visitor, not the proxy (gunicorn writes each line after its answer).
    def posts() -> list[str]:
        return [line for line in access_log.read_text().splitlines() if "POST /admin/login" in line]

    wait_until(lambda: len(posts()) == 15, what="gunicorn's access log")
    assert all(line.startswith(VISITOR + " ") for line in posts())


def test_parallel_subscriptions_stop_at_the_limit(mailer, db):
    port, _log = mailer
    bodies = [f"email=person{i}%40vastkom.example" for i in range(22)]
    assert post_together(port, "/subscribe", bodies) == {303: 22}  # the same page for everyone
    with db.sessions() as session:
        mails = session.scalar(select(func.count()).where(OutboxMail.kind == MailKind.CONFIRMATION))
    assert mails == 20
