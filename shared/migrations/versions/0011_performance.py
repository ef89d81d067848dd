"""performance: random answer ids, participants indexed for same-day completers and by name, send grants

Revision ID: 0011_performance
Revises: 0006_worker
Create Date: 2026-12-01 17:40:00
"""

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0011_performance"
down_revision = "0006_worker"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mails", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_grants")),
    )
    with op.batch_alter_table("send_grants", schema=None) as batch_op:
        batch_op.create_index("ix_send_grants_at", ["at"], unique=False)
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_survey_status")
        batch_op.create_index("ix_participants_survey_status", ["survey_id", "completed_at", "id"], unique=False)
        batch_op.create_index("ix_participants_survey_name", ["survey_id", "name", "email", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Answer ids become random (given by the application): a sequence gives away the order in
        # which responses were sent in, so the ids already stored are replaced as well.
        op.execute("ALTER TABLE answers ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS answers_id_seq")
        op.alter_column("answers", "id", type_=sa.BigInteger(), existing_nullable=False)
        op.execute("UPDATE answers SET id = floor(random() * 9223372036854775807)::bigint")
    else:
        # SQLite's integer key holds 64 bits already; only the stored ids need replacing.
        op.execute("UPDATE answers SET id = abs(random() % 9223372036854775807)")


def downgrade() -> None:
    op.drop_table("send_grants")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE answers SET id = numbered.n FROM "
            "(SELECT id, row_number() OVER (ORDER BY id) AS n FROM answers) AS numbered WHERE answers.id = numbered.id"
        )
        op.alter_column("answers", "id", type_=sa.Integer(), existing_nullable=False)
        op.execute("CREATE SEQUENCE answers_id_seq OWNED BY answers.id")
        op.execute("SELECT setval('answers_id_seq', coalesce((SELECT max(id) FROM answers), 0) + 1, false)")
        op.execute("ALTER TABLE answers ALTER COLUMN id SET DEFAULT nextval('answers_id_seq')")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_survey_name")
        batch_op.drop_index("ix_participants_survey_status")
        batch_op.create_index("ix_participants_survey_status", ["survey_id", "completed_at"], unique=False)
