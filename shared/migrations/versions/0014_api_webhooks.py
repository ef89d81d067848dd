"""api webhooks: a webhook can be disabled (from the admin's Webhooks page) without removing it

Revision ID: 0014_api_webhooks
Revises: 0009_newsletters
Create Date: 2026-12-01 20:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0014_api_webhooks"
down_revision = "0015_anonymous_seal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", shared.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
