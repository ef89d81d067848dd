"""accounts, sessions, login limits and hashed survey links

Revision ID: 0005_accounts
Revises: 0004_jobs
Create Date: 2026-12-01 15:59:46.739829
"""

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0005_accounts"
down_revision = "0004_jobs"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    # Accounts: invited (no password yet), active or disabled, and the session version every
    # session must match. (Rate-limit counts now store their keys hashed: counts from before the
    # upgrade no longer match any key and are deleted by the worker's housekeeping within a day.)
    with _sqlite_foreign_keys_off(), op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="active", nullable=False))
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=True)
    op.create_table(
        "rate_locks",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("used_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_locks")),
    )

    # Personal survey links: only the SHA-256 of each token is kept. The links already mailed keep
    # working, because their tokens are hashed here before the clear column goes.
    op.create_table(
        "participant_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_participant_links_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_participant_links_token_hash")),
    )
    with op.batch_alter_table("participant_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participant_links_participant_id"), ["participant_id"], unique=False)
    _hash_participant_tokens()
    with _sqlite_foreign_keys_off(), op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_participants_token"), type_="unique")
        batch_op.drop_column("token")


@contextmanager
def _sqlite_foreign_keys_off() -> Iterator[None]:
    """SQLite changes a column by copying the table and dropping the old one, and with foreign keys
    on, that drop first deletes every row: links would cascade away and responses lose their
    participant. The pragma only takes effect outside a transaction, hence the autocommit blocks."""
    if op.get_context().dialect.name != "sqlite":
        yield
        return
    with op.get_context().autocommit_block():
        op.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        with op.get_context().autocommit_block():
            op.execute("PRAGMA foreign_keys=ON")


def _hash_participant_tokens() -> None:
    conn = op.get_bind()
    participants = sa.table("participants", sa.column("id", sa.Integer), sa.column("token", sa.String))
    links = sa.table("participant_links", sa.column("participant_id", sa.Integer), sa.column("token_hash", sa.String))
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(participants.c.id, participants.c.token)
            .where(participants.c.id > last_id)
            .order_by(participants.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            links.insert(),
            [{"participant_id": row.id, "token_hash": hashlib.sha256(row.token.encode()).hexdigest()} for row in rows],
        )
        last_id = rows[-1].id


def downgrade() -> None:
    # The clear tokens cannot be had back from their hashes: every participant gets a new one, and
    # the links already mailed stop working.
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    participants = sa.table("participants", sa.column("id", sa.Integer), sa.column("token", sa.String))
    for (participant_id,) in conn.execute(sa.select(participants.c.id)).all():
        conn.execute(
            participants.update().where(participants.c.id == participant_id).values(token=secrets.token_urlsafe(24))
        )
    with _sqlite_foreign_keys_off(), op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.alter_column("token", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_participants_token"), ["token"])
    with op.batch_alter_table("participant_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_links_participant_id"))
    op.drop_table("participant_links")
    op.drop_table("rate_locks")
    op.execute("UPDATE admin_users SET password_hash = '' WHERE password_hash IS NULL")
    with _sqlite_foreign_keys_off(), op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column("session_version")
        batch_op.drop_column("status")
