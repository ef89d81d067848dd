"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

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

    from shared.db import Database, alembic_config

    cfg = alembic_config(database_url)
    command.downgrade(cfg, "base")
    database = Database(database_url)
    try:
        with database.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}  # everything dropped
        command.upgrade(cfg, "heads")
        with database.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        with database.sessions() as session:
            assert session.scalars(select(NewsletterList.slug)).all() == ["nyhetsbrev"]
    finally:
        database.dispose()


def test_ids_in_stop_links_are_never_reused(db):
    """An erased person's old stop link must not stop a newcomer's subscription (SQLite reuses ids otherwise)."""
    from shared.models import Subscriber

    with db.transaction() as session:
        first = Subscriber(email="forsta@kommun.example")
        session.add(first)
        session.flush()
        old_id = first.id
        session.delete(first)
    with db.transaction() as session:
        newcomer = Subscriber(email="nasta@kommun.example")
        session.add(newcomer)
        session.flush()
        assert newcomer.id != old_id
