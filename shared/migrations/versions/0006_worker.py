"""worker heartbeats; subscribers' attributes from imported CSV columns; staged import rows

Revision ID: 0006_worker
Revises: 0008_reports
Create Date: 2026-12-01 17:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0006_worker"
down_revision = "0008_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("started_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.add_column(sa.Column("attributes", sa.JSON(), server_default="{}", nullable=False))
    op.create_table(
        "import_rows",
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("import_id", "line", name=op.f("pk_import_rows")),
    )
    op.create_index("ix_import_rows_key", "import_rows", ["import_id", "email_key", "line"])
    if op.get_bind().dialect.name == "postgresql":
        # Staged lines live minutes and are redone after a crash: not worth writing to the WAL.
        op.execute("ALTER TABLE import_rows SET UNLOGGED")


def downgrade() -> None:
    op.drop_index("ix_import_rows_key", table_name="import_rows")
    op.drop_table("import_rows")
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.drop_column("attributes")
    op.drop_table("worker_heartbeats")
