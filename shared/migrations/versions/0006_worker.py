"""worker heartbeats; subscribers' attributes from imported CSV columns

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


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.drop_column("attributes")
    op.drop_table("worker_heartbeats")
