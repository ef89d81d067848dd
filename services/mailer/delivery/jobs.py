"""The worker's jobs for newsletter issues: start scheduled issues when due, deliver claimed batches."""

from __future__ import annotations

import threading
from collections.abc import Callable

from services.mailer.delivery.pipeline import IssuePipeline
from services.mailer.issues.domain import start_due_issues
from shared.config import Config
from shared.db import Database


def issue_jobs(config: Config, db: Database, **pipeline_options) -> list[Callable[[threading.Event], int]]:
    """Jobs ``job(stop) -> int`` for ``services.worker.build_jobs``."""
    pipeline = IssuePipeline(config, db, **pipeline_options)

    # An outage is the worker's to handle (services.worker.Guarded): it logs and backs off.
    def start_scheduled_issues(stop: threading.Event) -> int:
        with db.transaction() as session:
            return start_due_issues(session)

    def deliver_issues(stop: threading.Event) -> int:
        # Mails claimed when the outage struck are taken again when their lease runs out.
        return pipeline.run(stop)

    return [start_scheduled_issues, deliver_issues]
