"""issues, deliveries, bounce events

Revision ID: 0003_issues
Revises: 0002_surveys
Create Date: 2026-11-22 22:45:47.169639
"""

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0003_issues"
down_revision = "0002_surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bounce_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_events")),
    )
    with op.batch_alter_table("bounce_events", schema=None) as batch_op:
        batch_op.create_index("ix_bounce_events_email_at", ["email", "at"], unique=False)

    op.create_table(
        "issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("preheader", sa.String(length=300), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_at", shared.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", shared.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", shared.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["admin_users.id"], name=op.f("fk_issues_created_by_admin_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["newsletter_lists.id"], name=op.f("fk_issues_list_id_newsletter_lists"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issues")),
    )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issues_list_id"), ["list_id"], unique=False)
        batch_op.create_index("ix_issues_status_scheduled_at", ["status", "scheduled_at"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", shared.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", shared.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name=op.f("fk_deliveries_issue_id_issues"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_deliveries_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("issue_id", "subscription_id", name=op.f("uq_deliveries_issue_id")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_issue_status", ["issue_id", "status"], unique=False)
        batch_op.create_index("ix_deliveries_status_due_at", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_due_at")
        batch_op.drop_index("ix_deliveries_issue_status")

    op.drop_table("deliveries")
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_index("ix_issues_status_scheduled_at")
        batch_op.drop_index(batch_op.f("ix_issues_list_id"))

    op.drop_table("issues")
    with op.batch_alter_table("bounce_events", schema=None) as batch_op:
        batch_op.drop_index("ix_bounce_events_email_at")

    op.drop_table("bounce_events")
