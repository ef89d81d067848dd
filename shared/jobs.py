"""Running jobs: a request starts one (``start_job``), the worker runs it (``run_next_job``).

A job's function gets a ``JobContext``: its parameters, the database, ``progress()`` to report how
far it has come (which also renews its lease and notices a cancel), ``checkpoint`` to resume after
an interruption, and ``add_file`` for what it produces. A job whose worker dies is taken up again
by the next worker once its lease runs out; after ``MAX_ATTEMPTS`` it fails with a message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.config import Config
from shared.db import Database, is_postgres
from shared.logs import loggable_exception
from shared.models.jobs import Job, JobFile, JobFileRole, JobKind, JobStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 3


class JobCancelled(Exception):
    """Raised inside a job's function when someone pressed Avbryt."""


class JobProblem(Exception):
    """A job cannot go on for a reason the person who started it can act on (shown as is)."""


@dataclass
class JobContext:
    """What a job's function works with."""

    db: Database
    config: Config
    job_id: int
    params: dict[str, Any]
    checkpoint: dict[str, Any]
    stop: threading.Event
    summary: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def progress(self, done: int, total: int | None = None, checkpoint: dict[str, Any] | None = None) -> None:
        """Record how far the job has come (and where to resume), renew the lease, honour a cancel.

        Call it after each batch: a batch's writes and its checkpoint should commit together, so
        pass the session-free checkpoint here right after committing the batch.
        """
        if checkpoint is not None:
            self.checkpoint = checkpoint
        with self.db.transaction() as session:
            values: dict[str, Any] = {"done": done, "lease_until": utcnow() + LEASE, "checkpoint": self.checkpoint}
            if total is not None:
                values["total"] = total
            session.execute(update(Job).where(Job.id == self.job_id).values(**values))
            cancelled = session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
        if cancelled:
            raise JobCancelled
        if self.stop.is_set():
            raise WorkerStopping

    def input_file(self) -> bytes:
        """The uploaded file the job was started with."""
        with self.db.sessions() as session:
            data = session.scalar(
                select(JobFile.data).where(JobFile.job_id == self.job_id, JobFile.role == JobFileRole.INPUT)
            )
        if data is None:
            raise JobProblem("the job's file is missing")
        return data

    def add_file(self, name: str, content_type: str, data: bytes) -> None:
        """Keep a file the job produced for download (replacing one of the same name)."""
        with self.db.transaction() as session:
            for old in session.scalars(
                select(JobFile).where(
                    JobFile.job_id == self.job_id, JobFile.role == JobFileRole.OUTPUT, JobFile.name == name
                )
            ):
                session.delete(old)
            session.add(
                JobFile(
                    job_id=self.job_id,
                    role=JobFileRole.OUTPUT,
                    name=name,
                    content_type=content_type,
                    size=len(data),
                    data=data,
                )
            )


class WorkerStopping(Exception):
    """The worker was asked to stop: leave the job to be taken up again (not a failure)."""


JobFunction = Callable[[JobContext], None]
# Per service, what a job runs inside: the service's app (templates, translations, url_for).
ServiceContexts = Mapping[str, Callable[[], AbstractContextManager[Any]]]


def start_job(
    session: Session,
    kind: JobKind,
    *,
    service: str,
    title: str,
    params: Mapping[str, Any] | None = None,
    language: str = "sv",
    return_path: str = "",
    created_by: int | None = None,
    total: int | None = None,
    input_file: tuple[str, str, bytes] | None = None,
) -> Job:
    """Queue a job (committed with the caller's transaction); ``input_file`` is (name, type, data)."""
    job = Job(
        kind=kind,
        service=service,
        title=title[:300],
        params=dict(params or {}),
        language=language,
        return_path=return_path,
        created_by=created_by,
        total=total,
        status=JobStatus.QUEUED,
    )
    session.add(job)
    session.flush()
    if input_file is not None:
        name, content_type, data = input_file
        session.add(
            JobFile(
                job_id=job.id,
                role=JobFileRole.INPUT,
                name=name[:200],
                content_type=content_type,
                size=len(data),
                data=data,
            )
        )
    return job


def cancel_job(session: Session, job: Job) -> bool:
    """Stop a job: at once if it waits, at its next progress report if it runs. False if finished."""
    if job.finished:
        return False
    if job.status == JobStatus.QUEUED:
        job.status, job.finished_at = JobStatus.CANCELLED, utcnow()
    else:
        job.cancel_requested = True
    return True


def claim_next(session: Session, kinds: list[JobKind], now: datetime) -> Job | None:
    """The oldest job this worker can run: waiting, or running under a lease that ran out."""
    query = (
        select(Job)
        .where(
            Job.kind.in_(kinds),
            or_(
                Job.status == JobStatus.QUEUED,
                (Job.status == JobStatus.RUNNING) & (Job.lease_until < now),
            ),
        )
        .order_by(Job.id)
        .limit(1)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    job = session.scalar(query)
    if job is None:
        return None
    job.status = JobStatus.RUNNING
    job.attempts += 1
    job.lease_until = now + LEASE
    job.started_at = job.started_at or now
    return job


def run_next_job(
    db: Database,
    config: Config,
    functions: Mapping[JobKind, JobFunction],
    stop: threading.Event,
    contexts: ServiceContexts | None = None,
) -> int:
    """Run one job if any is due; returns 1 when a job ran (whatever its outcome), else 0."""
    now = utcnow()
    with db.transaction() as session:
        job = claim_next(session, list(functions), now)
        if job is None:
            return 0
        if job.attempts > MAX_ATTEMPTS:
            _finish(session, job, JobStatus.FAILED, error="the job was interrupted too many times")
            return 1
        context = JobContext(
            db=db, config=config, job_id=job.id, params=dict(job.params), checkpoint=dict(job.checkpoint), stop=stop
        )
        kind, language, service, attempt = job.kind, job.language, job.service, job.attempts
    log.info("job %s (%s) started, attempt %s", context.job_id, kind, attempt)
    outcome, error = JobStatus.DONE, ""
    enter_service = (contexts or {}).get(service, nullcontext)
    try:
        with enter_service(), force_locale(language):
            functions[kind](context)
    except WorkerStopping:
        _release(db, context.job_id)
        return 1
    except JobCancelled:
        outcome = JobStatus.CANCELLED
    except JobProblem as exc:
        outcome, error = JobStatus.FAILED, str(exc)
    except Exception as exc:  # a bug or an outage: recorded on the job, logged with its cause
        log.error("job %s (%s) failed: %s", context.job_id, kind, loggable_exception(exc))
        outcome, error = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    with db.transaction() as session:
        job = session.get(Job, context.job_id)
        if job is not None:
            job.report = {"summary": context.summary, "problems": context.problems}
            _finish(session, job, outcome, error=error)
    log.info("job %s (%s) %s", context.job_id, kind, outcome)
    return 1


def _finish(session: Session, job: Job, status: JobStatus, *, error: str = "") -> None:
    job.status, job.error, job.finished_at, job.lease_until = status, error, utcnow(), None
    if status == JobStatus.DONE and job.total is not None:
        job.done = job.total


def _release(db: Database, job_id: int) -> None:
    """Hand the job back so the next worker takes it up at once (not after the lease); a stop
    is not an interruption, so the attempt does not count."""
    with db.transaction() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=JobStatus.QUEUED, lease_until=None, attempts=Job.attempts - 1)
        )
