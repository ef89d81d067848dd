"""The worker's heartbeat: each running worker writes its row every loop, so the admin overview,
``/healthz`` and ``utskick worker --check`` can tell whether mail is moving."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.models.base import Base


class WorkerHeartbeat(Base):
    """One row per worker process (host and process id); rows of stopped workers simply age."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow)
