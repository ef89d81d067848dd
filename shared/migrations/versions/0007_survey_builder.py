"""survey builder: every saved definition as a version; mail texts with {placeholders}; contact phone;
automatic reminders

Mail texts still exactly as an older version started them (Jinja templates) become the new plain
defaults; texts an evaluator wrote get the simple placeholders translated, and anything else left
in them is refused when sending until the evaluator fixes it.

Revision ID: 0007_survey_builder
Revises: 0011_performance
Create Date: 2026-12-01 17:40:00
"""

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision = "0007_survey_builder"
down_revision = "0011_performance"
branch_labels = None
depends_on = None


# The defaults before this revision, frozen here: only texts still equal to them are replaced.
_OLD = {
    "invitation_subject": ("Inbjudan: {{ title }}", "Invitation: {{ title }}"),
    "reminder_subject": ("Påminnelse: {{ title }}", "Reminder: {{ title }}"),
    "invitation_text": (
        "Hej {{ name }}!\n\n"
        "Du är inbjuden att svara på enkäten ”{{ title }}”.\n\n"
        "Svara via din personliga länk:\n{{ link }}\n\n"
        "{% if closes %}Enkäten stänger {{ closes }}.\n\n{% endif %}"
        "Du kan spara och fortsätta senare med samma länk.\n\n"
        "{% if contact_email %}Har du frågor? Kontakta {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "Vill du inte få påminnelser om enkäten? Tacka nej här:\n{{ decline_link }}\n",
        "Hello {{ name }},\n\n"
        "You are invited to answer the survey “{{ title }}”.\n\n"
        "Answer using your personal link:\n{{ link }}\n\n"
        "{% if closes %}The survey closes on {{ closes }}.\n\n{% endif %}"
        "You can save and continue later with the same link.\n\n"
        "{% if contact_email %}Questions? Contact {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "If you do not want reminders about this survey, decline here:\n{{ decline_link }}\n",
    ),
    "reminder_text": (
        "Hej {{ name }}!\n\n"
        "Vi har ännu inte fått dina svar på enkäten ”{{ title }}”. Dina svar är viktiga för oss.\n\n"
        "Svara via din personliga länk:\n{{ link }}\n\n"
        "{% if closes %}Enkäten stänger {{ closes }}.\n\n{% endif %}"
        "{% if contact_email %}Har du frågor? Kontakta {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "Vill du inte få fler påminnelser? Tacka nej här:\n{{ decline_link }}\n",
        "Hello {{ name }},\n\n"
        "We have not yet received your answers to the survey “{{ title }}”. Your answers matter to us.\n\n"
        "Answer using your personal link:\n{{ link }}\n\n"
        "{% if closes %}The survey closes on {{ closes }}.\n\n{% endif %}"
        "{% if contact_email %}Questions? Contact {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "If you do not want more reminders, decline here:\n{{ decline_link }}\n",
    ),
}
_NEW = {
    "invitation_subject": ("Inbjudan: {enkät}", "Invitation: {enkät}"),
    "reminder_subject": ("Påminnelse: {enkät}", "Reminder: {enkät}"),
    "invitation_text": (
        "Hej {förnamn}!\n\n"
        "Du är inbjuden att svara på enkäten ”{enkät}”. Sista dag att svara: {sista_dag}.\n\n"
        "Du kan spara och fortsätta senare med samma länk.\n\n"
        "Har du frågor? Kontakta {kontaktperson}.\n",
        "Hello {förnamn},\n\n"
        "You are invited to answer the survey “{enkät}”. Last day to answer: {sista_dag}.\n\n"
        "You can save and continue later with the same link.\n\n"
        "Questions? Contact {kontaktperson}.\n",
    ),
    "reminder_text": (
        "Hej {förnamn}!\n\n"
        "Vi har ännu inte fått dina svar på enkäten ”{enkät}”. Dina svar är viktiga för oss. "
        "Sista dag att svara: {sista_dag}.\n\n"
        "Har du frågor? Kontakta {kontaktperson}.\n",
        "Hello {förnamn},\n\n"
        "We have not yet received your answers to the survey “{enkät}”. Your answers matter to us. "
        "Last day to answer: {sista_dag}.\n\n"
        "Questions? Contact {kontaktperson}.\n",
    ),
}
_SIMPLE = {"{{ name }}": "{namn}", "{{ title }}": "{enkät}", "{{ closes }}": "{sista_dag}"}


def _new_text(field: str, text: str) -> str:
    for old, new in zip(_OLD[field], _NEW[field], strict=True):
        if text == old:
            return new
    for old, new in _SIMPLE.items():
        text = text.replace(old, new)
    return text


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): on SQLite a batch rebuild of surveys would cascade to its participants.
    op.add_column("surveys", sa.Column("contact_phone", sa.String(length=40), nullable=False, server_default=""))
    op.add_column("surveys", sa.Column("reminder_days", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("surveys", sa.Column("reminder_time", sa.String(length=5), nullable=False, server_default="09:00"))
    op.add_column(
        "surveys", sa.Column("reminder_weekdays_only", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column("surveys", sa.Column("reminders_paused", sa.Boolean(), nullable=False, server_default=sa.false()))
    surveys = sa.table("surveys", sa.column("id", sa.Integer), *(sa.column(field, sa.Text) for field in _OLD))
    connection = op.get_bind()
    for row in connection.execute(sa.select(surveys)).mappings().all():
        changed = {field: _new_text(field, row[field]) for field in _OLD if _new_text(field, row[field]) != row[field]}
        if changed:
            connection.execute(surveys.update().where(surveys.c.id == row["id"]).values(**changed))
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
    for column in ("reminders_paused", "reminder_weekdays_only", "reminder_time", "reminder_days", "contact_phone"):
        op.drop_column("surveys", column)
