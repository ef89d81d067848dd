"""Is the worker alive? Each worker loop writes its heartbeat row; pages, ``/healthz`` and
``utskick worker --check`` read the newest one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from shared.models import WorkerHeartbeat

# A loop ends after each pass over its tasks; a large send keeps one pass busy for minutes, so a
# heartbeat is only called stale well after that.
STALE_AFTER = timedelta(minutes=10)
FORGET_AFTER = timedelta(days=7)  # rows of workers that stopped long ago


def beat(session: Session, worker: str, now: datetime) -> None:
    """Record that ``worker`` finished a loop at ``now``."""
    # An UPDATE's result is a CursorResult, which Session.execute's typing does not promise.
    updated = cast(
        CursorResult[Any],
        session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker).values(beat_at=now)),
    )
    if not updated.rowcount:
        session.add(WorkerHeartbeat(worker=worker, started_at=now, beat_at=now))
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_AFTER))


@dataclass(frozen=True)
class WorkerHealth:
    """The newest heartbeat of any worker; ``alive`` if it is younger than ``STALE_AFTER``."""

    last_beat: datetime | None
    now: datetime

    @property
    def age(self) -> timedelta | None:
        return None if self.last_beat is None else self.now - self.last_beat

    @property
    def alive(self) -> bool:
        age = self.age
        return age is not None and age < STALE_AFTER

    def as_dict(self) -> dict[str, object]:
        age = self.age
        return {
            "status": "ok" if self.alive else ("never seen" if age is None else "stale"),
            "last_beat": self.last_beat.isoformat() if self.last_beat else None,
            "age_seconds": None if age is None else int(age.total_seconds()),
        }


def worker_health(session: Session, now: datetime) -> WorkerHealth:
    return WorkerHealth(session.scalar(select(func.max(WorkerHeartbeat.beat_at))), now)
