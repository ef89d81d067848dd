"""invitation fan-out: a mailing per press of the button, one row per queued recipient until the worker writes the mail

Revision ID: 0012_invitation_fanout
Revises: 0015_anonymous_seal
Create Date: 2026-12-01 20:30:00
"""

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0012_invitation_fanout"
down_revision = "0014_api_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_survey_mailings_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_mailings_survey_id_surveys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_mailings")),
    )
    op.create_index(op.f("ix_survey_mailings_job_id"), "survey_mailings", ["job_id"], unique=False)
    op.create_index(op.f("ix_survey_mailings_survey_id"), "survey_mailings", ["survey_id"], unique=False)
    op.create_table(
        "survey_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailing_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_survey_mails_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_mails")),
    )
    op.create_index(op.f("ix_survey_mails_mailing_id"), "survey_mails", ["mailing_id"], unique=False)
    op.create_index(op.f("ix_survey_mails_participant_id"), "survey_mails", ["participant_id"], unique=False)


def downgrade() -> None:
    op.drop_table("survey_mails")
    op.drop_table("survey_mailings")
