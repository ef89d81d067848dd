"""Benchmark: invitations to N participants of one survey through the sending job.

    python benchmarks/invitations.py [--participants 100000] [--database postgresql|sqlite]

Seeds the Millennium survey (open) with N participants, starts the SURVEY_INVITATIONS job as the
"Skicka nu" button does, and runs it as the worker does: first the fan-out (one INSERT … SELECT of
the recipients), then the mails written to the outbox in batches (a personal link each, the people
marked invited). Prints invitations queued per second (from "Skicka nu" until the fan-out is
committed; target: 100 000 in under 10 s), the rate the mails were then written to the outbox, and
the load of the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0  # 100 000 participants queued in under 10 s (and a larger send in proportion)
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()

    from sqlalchemy import func, insert, select

    from services.survey import create_app
    from services.survey.mailings.domain import start_sending
    from services.survey.surveys.domain import import_survey_file, open_survey, set_closes
    from services.worker import job_functions, service_contexts
    from shared.config import load_config
    from shared.db import Database, recreate_postgres_database, upgrade
    from shared.jobs import run_next_job
    from shared.models import MailKind, OutboxMail, Participant, Survey, SurveyMailing

    with tempfile.TemporaryDirectory() as workdir:
        if args.database == "sqlite":
            url = f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
        else:
            url = recreate_postgres_database(POSTGRES_ADMIN_URL, "utskick_bench_invitations")
        upgrade(url)
        config = load_config(
            {
                "DATABASE_URL": url,
                "SECRET_KEYS": "benchmark-secret-key-0123456789",
                "UTSKICK_VAR_DIR": workdir,
                "SURVEY_URL": "https://enkat.example.se",
                "MAIL_URL": f"file://{workdir}/mail",
            }
        )
        db = Database(url)
        app = create_app(config)
        with app.test_request_context(), db.transaction() as session:
            survey = import_survey_file(session, ROOT / "services/demo_data/survey-millennium.yaml")
            set_closes(session, survey, "2099-12-31")
            open_survey(session, survey)
            survey_id = survey.id
            rows = [
                {"survey_id": survey_id, "email": f"person{n}@example.org", "name": f"Person {n}", "attributes": {}}
                for n in range(args.participants)
            ]
            session.execute(insert(Participant), rows)
        started = time.perf_counter()
        with app.test_request_context(), db.transaction() as session:
            start_sending(
                session,
                session.get_one(Survey, survey_id),
                MailKind.SURVEY_INVITATION,
                created_by=None,
                return_path="/",
            )
        stop, contexts = threading.Event(), service_contexts(config)
        worker = threading.Thread(target=run_next_job, args=(db, config, job_functions(), stop, contexts))
        worker.start()
        queued_at = None
        while worker.is_alive():
            # Queued once the fan-out has committed: the mailing's row is there for everyone to see.
            with db.sessions() as session:
                queued = session.scalar(select(SurveyMailing.recipients))
            if queued is not None and queued_at is None:
                queued_at = time.perf_counter() - started
            time.sleep(0.02)
        worker.join()
        written_at = time.perf_counter() - started
        if queued_at is None:  # fanned out and written between two looks
            queued_at = written_at
        with db.sessions() as session:
            written = session.scalar(select(func.count()).select_from(OutboxMail)) or 0
            invited = session.scalar(select(func.count()).where(Participant.invited_at.is_not(None)))
        db.dispose()
    assert queued == written == invited == args.participants, (queued, written, invited)
    print(f"database: {args.database}, participants: {args.participants}")
    rate = queued / queued_at
    target = f"target: 100 000 in < {TARGET_SECONDS:.0f} s"
    print(f"invitations queued: {queued} in {queued_at:.1f} s = {rate:.0f}/s ({target})")
    writing = written_at - queued_at
    print(f"mails then written to the outbox: {written} in {writing:.1f} s = {written / writing:.0f}/s")
    load = os.getloadavg()
    print(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if queued_at > TARGET_SECONDS * max(1.0, args.participants / 100_000):
        sys.exit("queued slower than the target")


if __name__ == "__main__":
    main()
