"""The worker's jobs for newsletter issues: start scheduled issues when due, deliver claimed batches."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from services.mailer.delivery.pipeline import IssuePipeline
from services.mailer.issues.domain import start_due_issues
from shared.config import Config
from shared.db import Database

log = logging.getLogger(__name__)


def issue_jobs(config: Config, db: Database, **pipeline_options) -> list[Callable[[threading.Event], int]]:
    """Jobs ``job(stop) -> int`` for ``services.worker.build_jobs``."""
    pipeline = IssuePipeline(config, db, **pipeline_options)

    # A database or network outage must not end the worker: log it and try again on the next round.
    def start_scheduled_issues(stop: threading.Event) -> int:
        try:
            with db.transaction() as session:
                return start_due_issues(session)
        except Exception:
            log.exception("starting scheduled issues failed")
            return 0

    def deliver_issues(stop: threading.Event) -> int:
        try:
            return pipeline.run(stop)
        except Exception:
            log.exception("delivering issues failed; claimed mails are retaken when their lease runs out")
            return 0

    return [start_scheduled_issues, deliver_issues]
