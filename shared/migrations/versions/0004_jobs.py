"""jobs and their files: long work run by the worker with progress

Revision ID: 0004_jobs
Revises: 0003_issues
Create Date: 2026-12-01 14:18:52.710620
"""

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0004_jobs"
down_revision = "0003_issues"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("return_path", sa.String(length=500), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("checkpoint", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", shared.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", shared.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_until", shared.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["admin_users.id"], name=op.f("fk_jobs_created_by_admin_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_lease", ["status", "lease_until"], unique=False)

    op.create_table(
        "job_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_files_job_id_jobs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_files")),
    )
    with op.batch_alter_table("job_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_files_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_files_job_id"))

    op.drop_table("job_files")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_lease")

    op.drop_table("jobs")
