"""mailing batches: how many of each written batch of a mailing went to the outbox, and how many were dropped and why

Revision ID: 0016_large
Revises: 0012_invitation_fanout
Create Date: 2026-12-01 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_large"
down_revision = "0012_invitation_fanout"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_mailing_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailing_id", sa.Integer(), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.Column("dropped_closed", sa.Integer(), nullable=False),
        sa.Column("dropped_answered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailing_id"],
            ["survey_mailings.id"],
            name=op.f("fk_survey_mailing_batches_mailing_id_survey_mailings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_mailing_batches")),
    )
    op.create_index(
        op.f("ix_survey_mailing_batches_mailing_id"), "survey_mailing_batches", ["mailing_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("survey_mailing_batches")
