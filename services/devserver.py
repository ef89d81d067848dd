"""``utskick run``: everything on one machine for development and demos.

Migrates, seeds the demo (admin account, the Millennium survey with its 460 participants, the demo
newsletter issue), starts both services on gunicorn and the worker, waits until both services
answer, prints the URLs, and stops them all on Ctrl-C. Gunicorn's logs go to files under
``var/log/`` so that the URLs stay on screen.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from shared.config import Config
from shared.db import upgrade

DEMO_EMAIL = "admin@utskick.example"
DEMO_PASSWORD = "demo-lösenord-2026"  # noqa: S105 - the demo login, printed on screen on purpose
START_TIMEOUT = 60.0  # seconds for both services to answer /healthz


def _bind(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 80}"


def _gunicorn(name: str, base_url: str, log_dir: Path) -> subprocess.Popen[bytes]:
    logs = [
        "--access-logfile",
        str(log_dir / f"{name}-access.log"),
        "--error-logfile",
        str(log_dir / f"{name}-error.log"),
    ]
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", *logs, "-b", _bind(base_url)]
    return subprocess.Popen([*command, f"services.{name}:create_app()"])


def _port_taken(base_url: str) -> bool:
    parts = urlsplit(base_url)
    try:
        socket.create_connection((parts.hostname, parts.port or 80), timeout=1).close()
    except OSError:
        return False
    return True


def _answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{_bind(base_url)}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _wait_until_answering(
    services: dict[str, tuple[str, subprocess.Popen[bytes]]], log_dir: Path, stop: threading.Event
) -> str | None:
    """None once every service answers /healthz (or on Ctrl-C); else why not: one exited, or time ran out."""
    deadline = time.monotonic() + START_TIMEOUT
    waiting = dict(services)
    while waiting and not stop.is_set():
        for name, (url, process) in list(waiting.items()):
            if process.poll() is not None:
                return f"the {name} service stopped at start-up (port taken?); see {log_dir / f'{name}-error.log'}"
            if _answers(url):
                del waiting[name]
        if waiting and time.monotonic() > deadline:
            return f"no answer from {', '.join(waiting)} after {START_TIMEOUT:.0f} s; see the error logs in {log_dir}"
        if waiting:
            stop.wait(0.2)
    return None


def _summary(config: Config, seeded: list[str], log_dir: Path) -> str:
    mail_note = (
        f"Mail goes to the folder {config.mail_url.directory}; read it at {config.mailer_url}/admin/outbox"
        if config.mail_url.is_file
        else f"Mail goes to {config.mail_url.scheme}://{config.mail_url.host}:{config.mail_url.port}"
    )
    return (
        "\n"
        f"    {mail_note}\n" + "".join(f"    {line}\n" for line in seeded) + f"    Logs: {log_dir}\n"
        "\n"
        "  Utskick is running.\n"
        f"    Newsletter (readers):   {config.mailer_url}/subscribe\n"
        f"    Newsletter admin:       {config.mailer_url}/admin/\n"
        f"    Survey admin:           {config.survey_url}/admin/\n"
        f"    Demo login:             {DEMO_EMAIL} / {DEMO_PASSWORD}\n"
        "  Stop with Ctrl-C.\n"
    )


def start(config: Config) -> int:
    """Run everything until Ctrl-C (or SIGTERM); the exit status."""
    for variable, url in (("MAILER_URL", config.mailer_url), ("SURVEY_URL", config.survey_url)):
        if _port_taken(url):
            print(
                f"utskick run: {_bind(url)} is in use (another `make run`?); "
                f"choose another port with {variable}, e.g. {variable}=http://127.0.0.1:9001",
                file=sys.stderr,
            )
            return 1
    upgrade(config.database_url)
    from services.demo import seed

    seeded = seed(config, DEMO_EMAIL, DEMO_PASSWORD)
    log_dir = config.var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    services = {
        "mailer": (config.mailer_url, _gunicorn("mailer", config.mailer_url, log_dir)),
        "survey": (config.survey_url, _gunicorn("survey", config.survey_url, log_dir)),
    }
    processes = [process for _, process in services.values()]
    processes.append(subprocess.Popen([sys.executable, "-m", "services.cli", "worker"]))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        problem = _wait_until_answering(services, log_dir, stop)
        if problem:
            print(f"utskick run: {problem}", file=sys.stderr, flush=True)
            return 1
        if not stop.is_set():
            print(_summary(config, seeded, log_dir), flush=True)
        while not stop.wait(0.5) and all(p.poll() is None for p in processes):
            pass
    finally:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    failed = [p.args for p in processes if p.returncode not in (0, -signal.SIGTERM, None)]
    return 1 if failed and not stop.is_set() else 0
