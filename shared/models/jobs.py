"""Long work (imports, sending to everyone, large exports) as jobs the worker runs, with progress.

A request only writes the job row (and its uploaded file); the worker claims it, reports progress as
it goes and stores the outcome: a report for the person who started it, and files to download.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.models.base import Base, Vocabulary, VocabularyText


class JobStatus(Vocabulary):
    QUEUED = "queued", _l("Väntar på sin tur")
    RUNNING = "running", _l("Pågår")
    DONE = "done", _l("Klart")
    FAILED = "failed", _l("Misslyckades")
    CANCELLED = "cancelled", _l("Avbrutet")


class JobKind(Vocabulary):
    """Every kind of job; each service registers the function that does it (``shared.jobs``)."""

    SUBSCRIBER_IMPORT = "subscriber_import", _l("Import av prenumeranter")
    PARTICIPANT_IMPORT = "participant_import", _l("Import av deltagare")
    SURVEY_INVITATIONS = "survey_invitations", _l("Inbjudningar")
    SURVEY_REMINDERS = "survey_reminders", _l("Påminnelser")
    RESULTS_EXPORT = "results_export", _l("Export av svar")
    REPORT_PDF = "report_pdf", _l("Rapport som PDF")


class JobFileRole(Vocabulary):
    INPUT = "input"
    OUTPUT = "output"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_lease", "status", "lease_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(VocabularyText(JobKind, 32))
    service: Mapped[str] = mapped_column(String(16))  # whose pages show it: mailer | survey
    title: Mapped[str] = mapped_column(String(300))  # what the person who started it called it, in their words
    status: Mapped[JobStatus] = mapped_column(VocabularyText(JobStatus, 16), default=JobStatus.QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(8), default="sv")  # the report is written in it
    # Where the person goes back to when the job is done (a path in the job's service).
    return_path: Mapped[str] = mapped_column(String(500), default="")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    # Where a job that was interrupted (worker stopped or killed) takes up again.
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"summary": [...], "problems": [...]}
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]

    files: Mapped[list[JobFile]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="JobFile.id", lazy="raise"
    )

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))


class JobFile(Base):
    """A file a job reads (an upload) or writes (an export). Kept in the database so the web and
    the worker need not share a disk; deleted with the job."""

    __tablename__ = "job_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    role: Mapped[JobFileRole] = mapped_column(VocabularyText(JobFileRole, 8))
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
