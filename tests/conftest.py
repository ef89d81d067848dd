"""Fixtures: every database test runs on SQLite and on PostgreSQL, each test on a freshly migrated database.

PostgreSQL is required, not optional: set TEST_POSTGRES_URL (default: the local server). If it does
not answer, the run fails instead of silently testing SQLite only.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from shared.accounts import Passwords
from shared.config import load_config
from shared.db import Database, normalise_url, recreate_postgres_database, upgrade
from shared.models import Base

pytest_plugins = ["tests.fixtures_smtp"]

TEST_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]

# Hypothesis fails an example slower than 200 ms by default; on a busy two-core machine that
# measures the load, not the code (test_tokens failed so). The tests check behaviour, not speed.
settings.register_profile("utskick", deadline=None)
settings.load_profile("utskick")


def _worker_suffix(request) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    prefix = os.environ.get("UTSKICK_TEST_DB_PREFIX", "utskick_test")
    return f"{prefix}_{worker}"


class _MigratedState:
    """Puts a PostgreSQL database back as the migrations left it: the rows they seed, the sequences.

    Before each test the rows the tests before it left are deleted: milliseconds, where TRUNCATE
    (new files for every table and index) took about 200 ms a test. The test sees what it would
    on a fresh database: the seeded rows only, and ids that start at the start. Nothing else is
    shared, so tests may use threads, processes and engines of their own.
    """

    def __init__(self, url: str):
        self.engine = create_engine(normalise_url(url))
        tables = Base.metadata.sorted_tables
        self.delete_all = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(tables))  # children first
        with self.engine.connect() as conn:
            self.seeded = [(t, rows) for t in tables if (rows := [r._asdict() for r in conn.execute(t.select())])]
            sequences = conn.execute(
                text(
                    "SELECT format('%I.%I', schemaname, sequencename) AS name, start_value, last_value "
                    "FROM pg_sequences WHERE schemaname = current_schema()"
                )
            ).all()
        self.sequences = {
            "names": [s.name for s in sequences],
            "starts": [s.start_value for s in sequences],
            "lasts": [s.last_value for s in sequences],
        }

    def restore(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(self.delete_all)
            for table, rows in self.seeded:
                conn.execute(table.insert(), rows)
            conn.execute(
                text(
                    "SELECT setval(CAST(name AS regclass), coalesce(last, start), last IS NOT NULL) "
                    "FROM unnest(CAST(:names AS text[]), CAST(:starts AS bigint[]), CAST(:lasts AS bigint[])) "
                    "AS s(name, start, last)"
                ),
                self.sequences,
            )


@pytest.fixture(scope="session")
def postgres_template_url(request) -> str:
    """A database of our own on the PostgreSQL server (one per xdist worker), migrated once."""
    try:
        url = recreate_postgres_database(TEST_POSTGRES_URL, _worker_suffix(request))
    except Exception as exc:  # any driver error becomes one clear failure
        pytest.fail(f"PostgreSQL is required for the tests and did not answer at {TEST_POSTGRES_URL}: {exc}")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_migrated_state(postgres_template_url):
    state = _MigratedState(postgres_template_url)
    yield state
    state.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """The URL of a freshly migrated, empty database (but for the default list)."""
    if request.param == "sqlite":
        path = tmp_path / "utskick.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    request.getfixturevalue("postgres_migrated_state").restore()
    return request.getfixturevalue("postgres_template_url")


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def config(database_url, tmp_path):
    """Configuration as a deployment would have it: mail to a file outbox unless a test says otherwise."""
    env = {
        "DATABASE_URL": database_url,
        "MAIL_URL": f"file://{tmp_path / 'outbox'}",
        "MAIL_FROM": "Nyhetsbrevet <nyhetsbrev@utskick.example>",
        "SECRET_KEYS": "test-secret-key-0123456789,old-secret-key-9876543210",
        "MAILER_URL": "http://mailer.test",
        "SURVEY_URL": "http://survey.test",
        "UTSKICK_VAR_DIR": str(tmp_path / "var"),
    }
    # testing=True also gives argon2's cheapest parameters (shared.accounts.Passwords.for_config):
    # the suite hashes and checks hundreds of passwords. Processes the tests start keep the real ones.
    return load_config(env).with_(testing=True)


@pytest.fixture
def passwords(config) -> Passwords:
    """The password hasher a test configuration gets."""
    return Passwords.for_config(config)


@pytest.fixture
def cli_env(config, monkeypatch):
    """The test configuration as environment variables, for ``utskick`` commands run in-process
    (and, with ``os.environ``, for processes the test starts)."""
    env = {
        "DATABASE_URL": config.database_url,
        "MAIL_URL": f"file://{config.mail_url.directory}",
        "SECRET_KEYS": ",".join(config.secret_keys),
        "MAILER_URL": config.mailer_url,
        "SURVEY_URL": config.survey_url,
        "UTSKICK_VAR_DIR": str(config.var_dir),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env
