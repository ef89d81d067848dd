"""newsletters: list settings, segments, templates, media, history, click counts, organisation settings

Existing lists keep working as before: public, the service's sender, the built-in consent text, no
click counts (the server defaults below).

Revision ID: 0009_newsletters
Revises: 0010_api_keys
Create Date: 2026-12-01 17:26:11.517111
"""

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0009_newsletters"
down_revision = "0010_api_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("alt_text", sa.String(length=500), nullable=False),
        sa.Column("created_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_files")),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("list_ids", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("created_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "mail_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("logo_id", sa.Integer(), nullable=True),
        sa.Column("header_colour", sa.String(length=7), nullable=False),
        sa.Column("text_colour", sa.String(length=7), nullable=False),
        sa.Column("link_colour", sa.String(length=7), nullable=False),
        sa.Column("header_links", sa.Boolean(), nullable=False),
        sa.Column("footer_text", sa.Text(), nullable=False),
        sa.Column("created_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["logo_id"], ["media_files.id"], name=op.f("fk_mail_templates_logo_id_media_files"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_mail_templates_name")),
    )
    op.create_table(
        "issue_lists",
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name=op.f("fk_issue_lists_issue_id_issues"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["newsletter_lists.id"],
            name=op.f("fk_issue_lists_list_id_newsletter_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_id", "list_id", name=op.f("pk_issue_lists")),
    )
    op.create_table(
        "issue_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("preheader", sa.String(length=300), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("autosave", sa.Boolean(), nullable=False),
        sa.Column("saved_by", sa.Integer(), nullable=True),
        sa.Column("saved_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name=op.f("fk_issue_revisions_issue_id_issues"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["saved_by"], ["admin_users.id"], name=op.f("fk_issue_revisions_saved_by_admin_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_revisions")),
    )
    with op.batch_alter_table("issue_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_revisions_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "link_clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name=op.f("fk_link_clicks_issue_id_issues"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_clicks")),
        sa.UniqueConstraint("issue_id", "url", name=op.f("uq_link_clicks_issue_id")),
    )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("template_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_issues_template_id_mail_templates"),
            "mail_templates",
            ["template_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_issues_segment_id_segments"), "segments", ["segment_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("newsletter_lists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("sender_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("sender_email", sa.String(length=320), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("consent_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("consent_version", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("click_statistics", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("archived_at", shared.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("newsletter_lists", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("click_statistics")
        batch_op.drop_column("consent_version")
        batch_op.drop_column("consent_text")
        batch_op.drop_column("sender_email")
        batch_op.drop_column("sender_name")
        batch_op.drop_column("public")

    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_issues_segment_id_segments"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_issues_template_id_mail_templates"), type_="foreignkey")
        batch_op.drop_column("template_id")
        batch_op.drop_column("segment_id")

    op.drop_table("link_clicks")
    with op.batch_alter_table("issue_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_revisions_issue_id"))

    op.drop_table("issue_revisions")
    op.drop_table("issue_lists")
    op.drop_table("mail_templates")
    op.drop_table("settings")
    op.drop_table("segments")
    op.drop_table("media_files")
