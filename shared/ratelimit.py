"""Sliding-window limits kept in the database, so every gunicorn worker sees the same counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from shared.models import RateEvent


def count_recent(session: Session, key: str, window: timedelta, now: datetime) -> int:
    return session.scalar(select(func.count()).where(RateEvent.key == key, RateEvent.at > now - window)) or 0


def allow(session: Session, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    """Record one use of ``key`` and say whether it is within ``limit`` per ``window``."""
    if count_recent(session, key, window, now) >= limit:
        return False
    session.add(RateEvent(key=key, at=now))
    return True


def forget_older_than(session: Session, cutoff: datetime) -> int:
    """Housekeeping for the worker: counts older than every window are of no use (and are personal data)."""
    # A DELETE's result is a CursorResult, which Session.execute's typing does not promise
    # (SQLAlchemy's changelog for 2.0.44 recommends this cast).
    result = cast(CursorResult[Any], session.execute(delete(RateEvent).where(RateEvent.at < cutoff)))
    return result.rowcount or 0
