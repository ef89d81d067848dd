"""``utskick run`` (``make run``): the URLs and the demo login come last, gunicorn logs to var/log/."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:  # the small race with another process is acceptable in a test
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_shows_the_urls_last_and_logs_to_var(tmp_path):
    var = tmp_path / "var"
    mailer, survey = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "MAIL_URL")}
    env.update(
        UTSKICK_VAR_DIR=str(var), MAILER_URL=mailer, SURVEY_URL=survey, SECRET_KEYS="devserver-test-key-0123456789"
    )
    screen = tmp_path / "screen.txt"
    with screen.open("w") as out:
        run = subprocess.Popen([sys.executable, "-m", "services.cli", "run"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        wait_until(
            lambda: "Stop with Ctrl-C." in screen.read_text() or run.poll() is not None,
            timeout=120,
            what="the start-up summary",
        )
        lines = screen.read_text().rstrip("\n").splitlines()
        assert lines[-6:] == [
            "  Utskick is running.",
            f"    Newsletter (readers):   {mailer}/subscribe",
            f"    Newsletter admin:       {mailer}/admin/",
            f"    Survey admin:           {survey}/admin/",
            "    Demo login:             admin@utskick.example / demo-lösenord-2026",
            "  Stop with Ctrl-C.",
        ], screen.read_text()
        for base in (mailer, survey):
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:  # noqa: S310 - http://127.0.0.1
                assert response.status == 200
        assert "Listening at" in (var / "log" / "mailer-error.log").read_text()
        assert "Listening at" in (var / "log" / "survey-error.log").read_text()
        wait_until(lambda: "/healthz" in (var / "log" / "survey-access.log").read_text(), what="the access log")
        assert "Listening at" not in screen.read_text()  # gunicorn's own lines stay in the log files
    finally:
        run.send_signal(signal.SIGINT)
        returncode = run.wait(timeout=30)
    assert returncode == 0, screen.read_text()


def test_run_refuses_a_port_in_use_and_names_the_setting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        mailer = f"http://127.0.0.1:{taken.getsockname()[1]}"
        env = {
            **os.environ,
            "UTSKICK_VAR_DIR": str(tmp_path / "var"),
            "MAILER_URL": mailer,
            "SURVEY_URL": f"http://127.0.0.1:{free_port()}",
            "SECRET_KEYS": "devserver-test-key-0123456789",
        }
        result = subprocess.run(
            [sys.executable, "-m", "services.cli", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert "is in use" in result.stderr and "MAILER_URL" in result.stderr
