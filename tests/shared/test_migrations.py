"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from shared.models import Base, NewsletterList


def test_migrated_database_matches_the_models(db):
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


def test_first_migration_creates_the_default_list(db):
    with db.sessions() as session:
        assert session.scalars(select(NewsletterList.slug)).all() == ["nyhetsbrev"]


def test_downgrade_and_upgrade_again(database_url):
    from alembic import command

    from shared.db import alembic_config

    cfg = alembic_config(database_url)
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "heads")
