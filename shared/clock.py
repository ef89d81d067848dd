"""The clock, in one place, so tests can pass a fixed time instead of patching internals."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
