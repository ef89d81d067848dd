"""survey versions: every saved definition, for the builder's list of versions and restore

Revision ID: 0007_survey_builder
Revises: 0008_reports
Create Date: 2026-12-01 17:40:00
"""

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0007_survey_builder"
down_revision = "0008_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("saved_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["saved_by"], ["admin_users.id"], name=op.f("fk_survey_versions_saved_by_admin_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_versions_survey_id_surveys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_versions")),
    )
    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_versions_survey_id"), ["survey_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_versions_survey_id"))

    op.drop_table("survey_versions")
