"""The worker's jobs for newsletter issues: start scheduled issues when due, deliver claimed batches."""
from __future__ import annotations

import threading
from typing import Callable

from shared.config import Config
from shared.db import Database
from services.mailer.delivery.pipeline import IssuePipeline
from services.mailer.issues.domain import start_due_issues


def issue_jobs(config: Config, db: Database, **pipeline_options) -> list[Callable[[threading.Event], int]]:
    """Jobs ``job(stop) -> int`` for ``services.worker.build_jobs``."""
    pipeline = IssuePipeline(config, db, **pipeline_options)

    def start_scheduled_issues(stop: threading.Event) -> int:
        with db.transaction() as session:
            return start_due_issues(session)

    def deliver_issues(stop: threading.Event) -> int:
        return pipeline.run(stop)

    return [start_scheduled_issues, deliver_issues]
