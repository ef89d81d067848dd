"""anonymous seal: responses awaiting the day's seal, and the index the seal finds them by

Responses already sent in to anonymous surveys await a seal too, so the first one rewrites them.

Revision ID: 0015_anonymous_seal
Revises: 0009_newsletters
Create Date: 2026-12-01 20:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_anonymous_seal"
down_revision = "0009_newsletters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting_seal", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(
            "ix_responses_awaiting_seal",
            ["completed_at", "survey_id"],
            unique=False,
            postgresql_where=sa.text("awaiting_seal"),
            sqlite_where=sa.text("awaiting_seal"),
        )
    op.execute(
        "UPDATE responses SET awaiting_seal = true WHERE status = 'complete'"
        " AND survey_id IN (SELECT id FROM surveys WHERE anonymous)"
    )


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_awaiting_seal", postgresql_where=sa.text("awaiting_seal"))
        batch_op.drop_column("awaiting_seal")
