"""Fixtures: every database test runs on SQLite and on PostgreSQL, each test on a fresh schema.

PostgreSQL is required, not optional: set TEST_POSTGRES_URL (default: the local server). If it does
not answer, the run fails instead of silently testing SQLite only.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shared.config import load_config
from shared.db import Database, normalise_url, recreate_postgres_database, upgrade
from shared.models import Base

pytest_plugins = ["tests.fixtures_smtp"]

TEST_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _worker_suffix(request) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    prefix = os.environ.get("UTSKICK_TEST_DB_PREFIX", "utskick_test")
    return f"{prefix}_{worker}"


@pytest.fixture(scope="session")
def postgres_template_url(request) -> str:
    """A database of our own on the PostgreSQL server (one per xdist worker), migrated once."""
    try:
        url = recreate_postgres_database(TEST_POSTGRES_URL, _worker_suffix(request))
    except Exception as exc:  # noqa: BLE001 - turn any driver error into one clear failure
        pytest.fail(f"PostgreSQL is required for the tests and did not answer at {TEST_POSTGRES_URL}: {exc}")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def _reset_postgres(url: str) -> None:
    """Empty every table and put back what the first migration seeds."""
    engine = create_engine(normalise_url(url))
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                "INSERT INTO newsletter_lists (slug, name, description, language, created_at) "
                "VALUES ('nyhetsbrev', 'Nyhetsbrevet', 'Nyheter varannan fredag.', 'sv', now())"
            )
        )
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """The URL of a freshly migrated, empty database (but for the default list)."""
    if request.param == "sqlite":
        path = tmp_path / "utskick.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_template_url")
    _reset_postgres(url)
    return url


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
    return load_config(env).with_(testing=True)
