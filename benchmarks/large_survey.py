"""Benchmark: a regional staff survey end to end on PostgreSQL, stage by stage.

    .venv/bin/python benchmarks/large_survey.py [--participants 100000] [--deliver 10000]
        [--responses 10000] [--clients 8]

1. ``--participants`` imported from one CSV (``import_participants_csv``, as the page and the CLI do);
2. invitations to all of them as "Skicka nu" sends them: the SURVEY_INVITATIONS job, run by the
   worker's own loop (``services.worker.run``) in a thread — everyone queued in one INSERT … SELECT
   (queued/s), the mails written to the outbox in batches (written/s), then the first ``--deliver``
   of them delivered by the worker's outbox step over SMTP to the sink on loopback that the other
   benchmarks use (``tests/fixtures_smtp.py``, its own process; delivered/s); the sink's count must
   match. The rest stay queued in the outbox: the outbox sends one mail at a time (its own claim
   and transactions each), 113–217 a second on the shared 2 cores, so all 100 000 would take 8–15
   minutes, ``make bench``'s whole budget; a tenth gives the rate, which does not depend on how many
   are queued;
3. ``--responses`` anonymous submits by ``--clients`` concurrent threads, each a whole response on the
   path a submit takes (lock, re-create unlinkable; sealed later); p50/p95 of the first and the last
   thousand must be alike (flat);
4. the participants page (first page and one 90 % in, by key) and the status counts, the results
   page and the dashboard as an evaluator sees them, and the CSV export.

Prints each stage's rate or time and the machine's load beside it; target for the participants page
and the counts: under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from benchmarks.results import bench_config
from benchmarks.send import smtp_sink
from benchmarks.submit import VALUES
from shared.config import parse_mail_url
from shared.db import Database, recreate_postgres_database, upgrade

ROOT = Path(__file__).resolve().parents[1]

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
BENCH_DB = "utskick_bench_large"
PASSWORD = "benchmark-password"
PAGE_TARGET_MS = 200.0
REGIONS = ["GR", "Fyrbodal", "Skaraborg", "Sjuhärad"]


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:5.1f} ms, p95 {p95 * 1000:5.1f} ms"


def best_of(run, times: int = 3) -> float:
    run()  # warm: templates compiled, connection pooled
    timings = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--deliver", type=int, default=10_000, help="invitations delivered to the SMTP sink")
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    import yaml
    from argon2 import PasswordHasher

    from services.demo import DEMO_DATA
    from services.survey import create_app
    from services.survey.mailings.domain import start_sending
    from services.survey.participants.domain import import_participants_csv, list_participants, status_counts
    from services.survey.responses.storage import store_complete_response
    from services.survey.results import exports
    from services.survey.surveys.definitions import normalise
    from services.survey.surveys.domain import create_survey, open_survey
    from services.worker import run as run_worker
    from shared.accounts import Passwords, create_admin
    from shared.models import Job, JobStatus, MailKind, OutboxMail, OutboxStatus, Participant, Survey, SurveyMailing

    url = recreate_postgres_database(POSTGRES_URL, BENCH_DB)
    upgrade(url)
    db = Database(url)
    failed = False
    deliver = min(args.deliver, args.participants)
    with tempfile.TemporaryDirectory() as tmp, smtp_sink(Path(tmp)) as (port, received):
        config = bench_config(url, Path(tmp))
        config = config.with_(mail_url=parse_mail_url(f"smtp://127.0.0.1:{port}", config.var_dir))
        app = create_app(config)
        definition = yaml.safe_load((DEMO_DATA / "survey-millennium.yaml").read_text(encoding="utf-8"))
        definition["closes"] = "2099-12-31"
        with app.test_request_context(), db.transaction() as s:
            create_admin(s, Passwords(PasswordHasher()), "bench@gr.example", PASSWORD, "evaluator")
            survey = create_survey(s, normalise({**definition, "anonymous": True}))
            survey.contact_name, survey.contact_email = "Eva Utvärderare", "eva@vastkom.example"
            open_survey(s, survey)
            survey_id = survey.id
        print(f"large survey, PostgreSQL, machine shared with other work ({load()})")

        # 1. Import
        rows = "".join(
            f"person{i}@region.example,Person {i},kommun,IT-chef,{REGIONS[i % 4]}\r\n" for i in range(args.participants)
        )
        csv_text = "email,name,organisationstyp,roll,delregion\r\n" + rows
        start = time.perf_counter()
        with app.test_request_context(), db.transaction() as s:
            report = import_participants_csv(s, survey_id, csv_text)
        took = time.perf_counter() - start
        print(f"  import:       {args.participants} in {took:5.1f} s = {args.participants / took:6.0f}/s  ({load()})")
        assert report.added == args.participants, report

        # 2. Invitations: "Skicka nu" starts the SURVEY_INVITATIONS job; the worker's own loop runs it
        #    (everyone queued in one INSERT … SELECT, the mails written to the outbox in batches), then
        #    its outbox step delivers them to the SMTP sink.
        with app.test_request_context(), db.transaction() as s:
            job_id = start_sending(
                s, s.get_one(Survey, survey_id), MailKind.SURVEY_INVITATION, created_by=None, return_path="/"
            ).id
        stop = threading.Event()
        worker = threading.Thread(target=run_worker, args=(config,), kwargs={"stop": stop, "idle_sleep": 0.1})
        start = time.perf_counter()
        worker.start()
        queued_at = written_at = None
        delivered = 0
        while worker.is_alive():
            with db.sessions() as s:
                queued = s.scalar(select(SurveyMailing.recipients).where(SurveyMailing.job_id == job_id))
                if queued is not None and queued_at is None:
                    queued_at = time.perf_counter()
                if written_at is None and s.scalar(select(Job.status).where(Job.id == job_id)) == JobStatus.DONE:
                    written_at = time.perf_counter()
                if written_at is not None:
                    delivered = s.scalar(select(func.count()).where(OutboxMail.status == OutboxStatus.SENT)) or 0
            if delivered >= deliver:
                stop.set()  # the worker finishes the mail in hand and leaves the rest queued
            # Counting the sent mails reads the outbox: often enough to stop near the mark, seldom
            # enough not to take the worker's CPU (polled each 50 ms, delivery ran at half the rate).
            time.sleep(0.05 if written_at is None else 0.5)
        worker.join()
        delivered_at = time.perf_counter()
        assert queued_at is not None and written_at is not None
        with db.sessions() as s:
            delivered = s.scalar(select(func.count()).where(OutboxMail.status == OutboxStatus.SENT)) or 0
            job = s.get_one(Job, job_id)
            print(
                f"  invitations:  {queued} queued in {queued_at - start:5.1f} s = {queued / (queued_at - start):6.0f}/s"
                f" (the job, from its start)  ({load()})"
            )
            written = s.scalar(select(func.count()).select_from(OutboxMail)) or 0
            print(
                f"                {written} written to the outbox in {written_at - queued_at:5.1f} s"
                f" = {written / (written_at - queued_at):6.0f}/s; the job's report: {' '.join(job.report['summary'])}"
            )
        print(
            f"                {delivered} delivered to the SMTP sink by the worker's outbox step in"
            f" {delivered_at - written_at:5.1f} s = {delivered / (delivered_at - written_at):6.0f}/s  ({load()})"
        )
        sunk = received()
        print(f"                the sink received {sunk} (expected {delivered})")
        assert queued == written == args.participants and sunk == delivered >= deliver, (
            queued,
            written,
            delivered,
            sunk,
        )

        # 3. Responses by concurrent clients
        with db.sessions() as s:
            waiting = list(
                s.scalars(
                    select(Participant.id)
                    .where(Participant.survey_id == survey_id)
                    .order_by(Participant.id)
                    .limit(args.responses)
                )
            )
        timings: list[tuple[float, float]] = []  # (finished at, seconds)
        lock = threading.Lock()

        def client(ids: list[int]) -> None:
            with app.test_request_context():
                for participant_id in ids:
                    began = time.perf_counter()
                    with db.transaction() as s:
                        survey = s.get_one(Survey, survey_id)
                        store_complete_response(s, survey, VALUES, s.get_one(Participant, participant_id))
                    ended = time.perf_counter()
                    with lock:
                        timings.append((ended, ended - began))

        threads = [threading.Thread(target=client, args=(waiting[i :: args.clients],)) for i in range(args.clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.perf_counter() - start
        ordered = [seconds for _, seconds in sorted(timings)]
        chunk = min(1000, len(ordered) // 2)
        print(
            f"  responses:    {len(ordered)} by {args.clients} clients in {took:5.1f} s = {len(ordered) / took:5.0f}/s"
            f"; first {chunk}: {percentiles(ordered[:chunk])}"
            f"; last {chunk}: {percentiles(ordered[-chunk:])}  ({load()})"
        )
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")

        # 4. Pages and export
        with db.sessions() as s:
            later = s.scalar(
                select(Participant.id)
                .where(Participant.survey_id == survey_id)
                .order_by(Participant.name, Participant.email, Participant.id)
                .offset(int(args.participants * 0.9))
                .limit(1)
            )
            figures = {
                "status counts": best_of(lambda: status_counts(s, survey_id)),
                "participants, first page (query)": best_of(lambda: list_participants(s, survey_id)),
                "participants, 90 % in by key (query)": best_of(lambda: list_participants(s, survey_id, after=later)),
            }
        app.config["WTF_CSRF_ENABLED"] = False
        browser = app.test_client()
        assert browser.post("/admin/login", data={"email": "bench@gr.example", "password": PASSWORD}).status_code == 302
        base = f"/admin/surveys/{survey_id}"
        for name, path in {
            "participants page": f"{base}/participants",
            "participants page, 90 % in": f"{base}/participants?page=901&after={later}",
            "results page": f"{base}/results",
            "dashboard": f"{base}/results/dashboard",
        }.items():
            figures[name] = best_of(lambda path=path: browser.get(path))
        with app.test_request_context(), db.sessions() as s:
            survey = s.get_one(Survey, survey_id)
            figures["CSV export"] = best_of(
                lambda: sum(len(c) for c in exports.csv_chunks(s, survey, exports.ExportOptions())), times=1
            )
        for name, ms in figures.items():
            target = name.startswith(("participants", "status"))
            ok = ms < PAGE_TARGET_MS or not target
            failed |= not ok
            verdict = f"  (target < {PAGE_TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'})" if target else ""
            print(f"  {name + ':':38} {ms:7.0f} ms{verdict}  ({load()})")
        app.extensions["utskick"].db.dispose()
    db.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
