"""The worker: one loop that delivers everything the services leave for it.

Jobs are plain functions ``job(stop) -> int`` (how much they did). SIGTERM sets ``stop``: the job in
hand finishes the message it is sending, then the loop ends. Nothing else ends it: a job that fails
(the database restarting, a network outage, a bug) is logged once and tried again after a capped,
jittered back-off, while the other jobs go on. Each loop writes the worker's heartbeat.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from flask import Flask

from shared.api.destinations import Rules
from shared.api.keys import forget_idempotent_calls
from shared.api.webhooks import deliver_due as deliver_webhooks
from shared.api.webhooks import forget_delivered
from shared.clock import utcnow
from shared.config import Config
from shared.db import Database
from shared.heartbeat import beat
from shared.jobs import JobFunction, ServiceContexts, run_next_job
from shared.logs import loggable_exception
from shared.mail.outbox import deliver_due
from shared.mail.transport import open_transport
from shared.models import JobKind
from shared.ratelimit import forget_older_than

log = logging.getLogger(__name__)

Job = Callable[[threading.Event], int]
RATE_EVENTS_KEPT = timedelta(days=2)  # longer than any rate-limit window
WEBHOOK_DELIVERIES_KEPT = timedelta(days=7)  # a done delivery holds an address: a week to look into failures
IDEMPOTENT_CALLS_KEPT = timedelta(days=1)  # how long an API retry with the same Idempotency-Key is answered
HOUSEKEEPING_EVERY = 3600.0  # seconds
SCHEDULE_EVERY = 60.0  # seconds: reminders are set to the minute
BACKOFF_FIRST = 1.0  # seconds after a job's first failure; doubled for each further one
BACKOFF_CAP = 60.0  # a database back after a long outage is noticed within this


class Guarded:
    """A job that may fail: the first failure is logged with its cause, then the job is skipped for
    a back-off that doubles up to ``BACKOFF_CAP``; the first success after failures is logged too."""

    def __init__(
        self,
        job: Job,
        *,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ):
        self.job, self.name = job, getattr(job, "__name__", "job")
        self.clock, self.jitter = clock, jitter
        self.failures = 0
        self.next_try = 0.0

    def __call__(self, stop: threading.Event) -> int:
        now = self.clock()
        if now < self.next_try:
            return 0
        try:
            done = self.job(stop)
        except Exception as exc:
            self.failures += 1
            # Jitter (half to all of the delay) keeps workers that lost the same database from
            # all coming back in the same second.
            delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (self.failures - 1)) * (0.5 + self.jitter() / 2)
            self.next_try = now + delay
            if self.failures == 1:
                log.error("%s failed, trying again with back-off: %s", self.name, loggable_exception(exc))
            else:
                log.debug("%s failed again (%s times), next try in %.1f s", self.name, self.failures, delay)
            return 0
        if self.failures:
            log.info("%s works again after %s failed tries", self.name, self.failures)
            self.failures, self.next_try = 0, 0.0
        return done


def job_functions() -> dict[JobKind, JobFunction]:
    """Every kind of long job the pages start, and the function that does it."""
    from services.mailer.subscriptions.jobs import import_job
    from services.survey.mailings.domain import sending_job
    from services.survey.participants.jobs import import_job as participant_import_job
    from services.survey.results.jobs import export_job, report_pdf_job

    return {
        JobKind.RESULTS_EXPORT: export_job,
        JobKind.REPORT_PDF: report_pdf_job,
        JobKind.SURVEY_INVITATIONS: sending_job,
        JobKind.SURVEY_REMINDERS: sending_job,
        JobKind.SUBSCRIBER_IMPORT: import_job,
        JobKind.PARTICIPANT_IMPORT: participant_import_job,
    }


def service_contexts(config: Config) -> ServiceContexts:
    """A job runs inside its service's app (templates, translations), built when first needed."""
    from services.mailer import create_app as mailer_app
    from services.survey import create_app as survey_app

    apps: dict[str, Flask] = {}
    factories = {"mailer": mailer_app, "survey": survey_app}

    def enter(service: str):
        def context():
            if service not in apps:
                apps[service] = factories[service](config)
            return apps[service].test_request_context(base_url=getattr(config, f"{service}_url"))

        return context

    return {service: enter(service) for service in factories}


def due_every(seconds: float, clock: Callable[[], float]) -> Callable[[], bool]:
    """A check that is true on its first call (so a job runs on the worker's first pass), then
    again once ``seconds`` have passed since it was last true."""
    last: float | None = None

    def due() -> bool:
        nonlocal last
        now = clock()
        if last is not None and now - last < seconds:
            return False
        last = now
        return True

    return due


def build_jobs(config: Config, db: Database, *, clock: Callable[[], float] = time.monotonic) -> list[Job]:
    """Every job the worker runs, in order. Services add theirs here.

    ``clock`` gives seconds, like ``time.monotonic`` (which counts from boot, so it may start near 0).
    """
    from shared.mail.dkim import signing_transport

    transport = signing_transport(open_transport(config.mail_url), config)

    unfinished: list[int] = []  # outbox mails claimed before an outage, still this worker's to send

    def outbox(stop: threading.Event) -> int:
        return deliver_due(db, transport, stop=stop, unfinished=unfinished).total

    housekeeping_due = due_every(HOUSEKEEPING_EVERY, clock)

    def housekeeping(stop: threading.Event) -> int:
        """Hourly: rate-limit counts older than every window are of no use, and they hold IP addresses;
        the API's stored answers to retried calls are kept a day."""
        if not housekeeping_due():
            return 0
        with db.transaction() as session:
            # A retry comes within minutes; a day later the stored answers only hold personal data.
            forgotten = forget_idempotent_calls(session, utcnow() - IDEMPOTENT_CALLS_KEPT)
            forgotten += forget_delivered(session, utcnow() - WEBHOOK_DELIVERIES_KEPT)
            return forget_older_than(session, utcnow() - RATE_EVENTS_KEPT) + forgotten

    functions, contexts = job_functions(), service_contexts(config)
    last_schedule: float | None = None

    def survey_schedule(stop: threading.Event) -> int:
        """Each minute, or at once while there is more to send: surveys that close themselves and
        automatic reminders."""
        from services.survey.mailings.schedule import run_schedule

        nonlocal last_schedule
        now = clock()
        if last_schedule is not None and now - last_schedule < SCHEDULE_EVERY:
            return 0
        with contexts["survey"](), db.transaction() as session:
            done = run_schedule(session)
        last_schedule = None if done else now
        return done

    def survey_mails(stop: threading.Event) -> int:
        """A batch of survey invitations and reminders fanned out earlier, written to the outbox."""
        from services.survey.mailings.domain import BATCH, write_mails

        with contexts["survey"](), db.transaction() as session:
            return write_mails(session, config, BATCH)

    seal_due = due_every(SCHEDULE_EVERY, clock)

    def seal_anonymous_responses(stop: threading.Event) -> int:
        """Each minute: seal the anonymous responses of days gone by (so a day is sealed within a minute
        of midnight UTC) and of surveys the schedule closed. A seal is one transaction: after a crash
        the next round does it whole. A round with nothing due reads the index of responses waiting
        for their seal (6 ms with 20 000 of today's waiting)."""
        from services.survey.responses.storage import seal_past_days

        if not seal_due():
            return 0
        with db.transaction() as session:
            return seal_past_days(session, utcnow()).responses

    def long_jobs(stop: threading.Event) -> int:
        return run_next_job(db, config, functions, stop, contexts) if functions else 0

    from services.mailer.delivery.jobs import issue_jobs

    def webhooks(stop: threading.Event) -> int:
        return deliver_webhooks(db, Rules.for_config(config))

    return [
        outbox,
        *issue_jobs(config, db),
        survey_mails,
        long_jobs,
        survey_schedule,
        seal_anonymous_responses,
        webhooks,
        housekeeping,
    ]


def run(config: Config, *, once: bool = False, stop: threading.Event | None = None, idle_sleep: float = 1.0) -> int:
    """Run the jobs until stopped (or, with ``once``, until nothing is due). Returns work done."""
    stop = stop or threading.Event()
    db = Database(config.database_url)
    name = f"{socket.gethostname()}:{os.getpid()}"

    def heartbeat(stop: threading.Event) -> int:
        with db.transaction() as session:
            beat(session, name, utcnow())
        return 0

    # The heartbeat first: a large send keeps the rest of a loop busy for a while.
    jobs = [Guarded(job) for job in [heartbeat, *build_jobs(config, db)]]
    done = 0
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.is_set():
            did = sum(job(stop) for job in jobs)
            done += did
            if once and did == 0:
                break
            if did == 0:
                stop.wait(idle_sleep)
    finally:
        db.dispose()
    return done
