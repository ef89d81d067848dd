"""``utskick run``: everything on one machine for development and demos.

Migrates, seeds the demo (admin account, the Millennium survey with its 460 participants, the demo
newsletter issue), starts both services on gunicorn and the worker, prints the URLs, and stops them
all on Ctrl-C.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

from shared.config import Config
from shared.db import upgrade

DEMO_EMAIL = "admin@utskick.example"
DEMO_PASSWORD = "demo-lösenord-2026"


def _bind(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 80}"


def start(config: Config) -> int:
    upgrade(config.database_url)
    from services.demo import seed

    seeded = seed(config, DEMO_EMAIL, DEMO_PASSWORD)
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--access-logfile", "-"]
    processes = [
        subprocess.Popen(gunicorn + ["-b", _bind(config.mailer_url), "services.mailer:create_app()"]),
        subprocess.Popen(gunicorn + ["-b", _bind(config.survey_url), "services.survey:create_app()"]),
        subprocess.Popen([sys.executable, "-m", "services.cli", "worker"]),
    ]
    time.sleep(1.5)  # let gunicorn print its start-up lines before the summary
    mail_note = (
        f"Mail goes to the folder {config.mail_url.directory}; read it at {config.mailer_url}/admin/outbox"
        if config.mail_url.is_file
        else f"Mail goes to {config.mail_url.scheme}://{config.mail_url.host}:{config.mail_url.port}"
    )
    print(
        "\n"
        "  Utskick is running.\n"
        f"    Newsletter (readers):   {config.mailer_url}/subscribe\n"
        f"    Newsletter admin:       {config.mailer_url}/admin/\n"
        f"    Survey admin:           {config.survey_url}/admin/\n"
        f"    Demo login:             {DEMO_EMAIL} / {DEMO_PASSWORD}\n"
        f"    {mail_note}\n"
        + "".join(f"    {line}\n" for line in seeded)
        + "  Stop with Ctrl-C.\n",
        flush=True,
    )
    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.5)
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
    return 1 if failed and not stopping else 0
