"""Alembic environment: migrations run against whatever URL the caller configured."""

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import pool

from shared.db import make_engine
from shared.models import Base
from shared.models.base import VocabularyText

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """A Vocabulary column is plain text in the database: migrations say so, and never import
    the enum (a migration must keep working when a vocabulary changes later)."""
    if type_ == "type" and isinstance(obj, VocabularyText):
        return f"sa.String(length={obj.length})"
    return False


OPTIONS: dict[str, Any] = {"target_metadata": target_metadata, "render_as_batch": True, "render_item": render_item}


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set: make the configuration with shared.db.alembic_config(url)")
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
