"""Bounce helpers: the sample delivery status notifications and what the suppression list holds."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from shared.models import Suppression

DSN = Path(__file__).parent / "dsn"


def suppressed(db) -> dict[str, str]:
    with db.transaction() as session:
        return dict(session.execute(select(Suppression.email, Suppression.reason)).all())
