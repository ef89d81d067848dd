"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from contextlib import contextmanager

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


def test_survey_links_mailed_before_the_upgrade_keep_working(database_url):
    """0005 replaces the clear tokens by their hashes: the links already in people's mail still open."""
    from sqlalchemy import text

    from services.survey.responses.flow import find_participant

    with downgraded(database_url, "0004_jobs") as (database, upgrade):
        with database.engine.begin() as conn:
            add_old_survey(conn, 1, anonymous=False)
            conn.execute(
                text(
                    "INSERT INTO participants (survey_id, email, name, attributes, token, reminders_sent, created_at) "
                    "VALUES (1, 'anna@ale.example', 'Anna', '{}', 'gammal-länk-i-mejlet', 0, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO responses (id, survey_id, participant_id, status, current_page, started_at, "
                    "updated_at, attributes) SELECT 'r1', 1, id, 'in_progress', 1, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP, '{}' FROM participants"
                )
            )
        upgrade()
        with database.sessions() as session:
            participant = find_participant(session, "gammal-länk-i-mejlet")
            assert participant.email == "anna@ale.example"
            # Rebuilding the table on SQLite must not cut the answers in progress off from their person.
            assert session.scalar(text("SELECT participant_id FROM responses")) == participant.id
        with database.engine.connect() as conn:
            assert "gammal-länk-i-mejlet" not in str(conn.exec_driver_sql("SELECT * FROM participant_links").all())


def test_anonymous_responses_sent_in_before_the_seal_existed_await_the_first_one(database_url):
    """0015: the responses already stored kept their stamps and order; the first seal must rewrite them."""
    from sqlalchemy import text

    with downgraded(database_url, "0009_newsletters") as (database, upgrade):
        with database.engine.begin() as conn:
            add_old_survey(conn, 1, anonymous=True)
            add_old_survey(conn, 2, anonymous=False)
            conn.execute(
                text(
                    "INSERT INTO responses (id, survey_id, status, current_page, started_at, updated_at, completed_at,"
                    " attributes) VALUES ('anonym', 1, 'complete', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, '{}'), ('pagaende', 1, 'in_progress', 0, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, NULL, '{}'), ('namngiven', 2, 'complete', 0, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '{}')"
                )
            )
        upgrade()
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM responses WHERE awaiting_seal")).scalars().all() == ["anonym"]


@contextmanager
def downgraded(database_url: str, revision: str):
    """The database at an older revision, and a function that upgrades it to the newest."""
    from alembic import command

    from shared.db import Database, alembic_config

    cfg = alembic_config(database_url)
    command.downgrade(cfg, revision)
    database = Database(database_url)
    try:
        yield database, lambda: command.upgrade(cfg, "heads")
    finally:
        database.dispose()


def add_old_survey(conn, survey_id: int, anonymous: bool) -> None:
    """An open survey row with only the columns every revision since 0004 has."""
    from sqlalchemy import text

    conn.execute(
        text(
            "INSERT INTO surveys (id, title, language, anonymous, status, definition, report_attributes, "
            "invitation_subject, invitation_text, reminder_subject, reminder_text, contact_name, "
            "contact_email, max_reminders, reminder_interval_days, min_group_size, created_at, updated_at) "
            "VALUES (:id, 'E', 'sv', :anonymous, 'open', '{}', '[]', '', '', '', '', '', '', 2, 7, 5, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"id": survey_id, "anonymous": anonymous},
    )
