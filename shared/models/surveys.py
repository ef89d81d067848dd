"""Surveys, the people invited to them, and their responses.

Answers are rows (one per chosen option, scale value or text), so every result is a ``GROUP BY``.
In an anonymous survey a submitted response keeps no participant id or token, has a random id,
and its times are kept to the day only (see ``services.survey.responses``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.models.base import Base, Vocabulary, VocabularyText
from shared.models.outbox import MailKind


class SurveyStatus(Vocabulary):
    DRAFT = "draft", _l("Utkast")
    OPEN = "open", _l("Öppen")
    CLOSED = "closed", _l("Stängd")


class ResponseStatus(Vocabulary):
    IN_PROGRESS = "in_progress", _l("Påbörjad")
    COMPLETE = "complete", _l("Klar")


class ParticipantStatus(Vocabulary):
    """Where a participant stands; worked out in SQL from their dates, never stored."""

    NOT_INVITED = "not_invited", _l("Inte inbjuden")
    INVITED = "invited", _l("Inbjuden")
    REMINDED = "reminded", _l("Påmind")
    STARTED = "started", _l("Påbörjad")
    COMPLETED = "completed", _l("Har svarat")
    DECLINED = "declined", _l("Har tackat nej")
    BOUNCED = "bounced", _l("Spärrad adress")


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8), default="sv")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[SurveyStatus] = mapped_column(VocabularyText(SurveyStatus, 16), default=SurveyStatus.DRAFT)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    # The whole checked definition (pages, questions, options, intro, thanks) as imported/edited.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    report_attributes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Mail texts (plain text with placeholders in braces, e.g. {förnamn}) and reminder rules.
    invitation_subject: Mapped[str] = mapped_column(String(300), default="")
    invitation_text: Mapped[str] = mapped_column(Text, default="")
    reminder_subject: Mapped[str] = mapped_column(String(300), default="")
    reminder_text: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    max_reminders: Mapped[int] = mapped_column(default=2)
    reminder_interval_days: Mapped[int] = mapped_column(default=7)
    # Automatic reminders: the n-th goes reminder_days[n] days after the invitation, at reminder_time
    # (HH:MM, Swedish time), on a weekday when reminder_weekdays_only; none while paused.
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=list)
    reminder_time: Mapped[str] = mapped_column(String(5), default="09:00")
    reminder_weekdays_only: Mapped[bool] = mapped_column(Boolean, default=True)
    reminders_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    min_group_size: Mapped[int] = mapped_column(default=5)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    participants: Mapped[list[Participant]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", passive_deletes=True
    )


class SurveyVersion(Base):
    """One saved definition of a survey. Every save (builder, YAML, restore) keeps one, so the
    evaluator can see earlier versions and restore one."""

    __tablename__ = "survey_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    saved_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))


class Participant(Base):
    """One invited person. In an anonymous survey this status is all that is known of them."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("survey_id", "email"),
        # With ``id`` last, an anonymous submit picks random participants of the same day cheaply.
        Index("ix_participants_survey_status", "survey_id", "completed_at", "id"),
        # The participants page lists by name and pages by key: an index range, never a sort of all.
        Index("ix_participants_survey_name", "survey_id", "name", "email", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    invited_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]  # day precision in an anonymous survey
    declined_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="participants")


class ParticipantLink(Base):
    """One personal link mailed to a participant (each invitation and reminder has its own; all keep
    working). Only the SHA-256 of the link's random token is stored: the link itself exists only in
    the mail, so a copy of the database opens nobody's survey."""

    __tablename__ = "participant_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)


class SurveyMailing(Base):
    """One press of "Skicka inbjudningar" or "Skicka påminnelser" (or one round of automatic
    reminders): who it went to is fanned out to ``survey_mails`` in one INSERT … SELECT."""

    __tablename__ = "survey_mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MailKind] = mapped_column(VocabularyText(MailKind, 32))
    # The sending job that made it, so a job taken up again after a crash does not fan out twice.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyMailingBatch(Base):
    """What became of one written batch of a mailing's mails, so the job's report says what really
    went to the outbox (written by the job or by another worker), not what was queued. A row per
    batch, not counts on the mailing: workers writing batches of one mailing at once never wait for
    each other's update of one row."""

    __tablename__ = "survey_mailing_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("survey_mailings.id", ondelete="CASCADE"), index=True)
    written: Mapped[int] = mapped_column(default=0)
    dropped_closed: Mapped[int] = mapped_column(default=0)  # the survey closed before they were written
    dropped_answered: Mapped[int] = mapped_column(default=0)  # reminders to people who answered or declined since


class SurveyMail(Base):
    """One recipient's mail of a mailing, queued: the worker builds it (with a new personal link),
    puts it in the outbox and marks the person invited or reminded in batches, deleting this row in
    the same transaction."""

    __tablename__ = "survey_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: its check per row was a third of a 100 000-person fan-out. The participant's
    # (which the mailing's survey's would repeat) deletes these rows with the survey or the person.
    mailing_id: Mapped[int] = mapped_column(index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)


class Response(Base):
    """One person's answers. ``id`` is random (uuid4 hex), never a sequence."""

    __tablename__ = "responses"
    __table_args__ = (
        Index("ix_responses_survey_status", "survey_id", "status"),
        # Only what the seal has still to do: a day's anonymous responses until it is sealed.
        Index(
            "ix_responses_awaiting_seal",
            "completed_at",
            "survey_id",
            postgresql_where=text("awaiting_seal"),
            sqlite_where=text("awaiting_seal"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    # Set while in progress so the person can resume; cleared on submit when the survey is anonymous.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"), unique=True)
    status: Mapped[ResponseStatus] = mapped_column(
        VocabularyText(ResponseStatus, 16), default=ResponseStatus.IN_PROGRESS
    )
    current_page: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # Copies of the participant's report_attributes (e.g. organisationstyp, delregion) for breakdowns.
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # An anonymous response sent in but not yet rewritten by the day's seal (its transaction stamp
    # and place in the table still tell when it came; see services.survey.responses.storage).
    awaiting_seal: Mapped[bool] = mapped_column(default=False, server_default=false())

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


def random_answer_id() -> int:
    """A random id: a sequence would give away the order in which responses were sent in."""
    return secrets.randbits(63)


class Answer(Base):
    """One stored answer value.

    - single/multiple: ``option_key`` (one row per chosen option; ``other`` with ``text_value``)
    - scale/nps/number: ``number_value``; "don't know" is ``option_key='dont_know'``
    - matrix: ``row_key`` plus ``number_value`` or ``option_key='dont_know'``
    - text/longtext: ``text_value``
    """

    __tablename__ = "answers"
    __table_args__ = (
        Index("ix_answers_question", "question_key", "option_key"),
        Index("ix_answers_response", "response_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False, default=random_answer_id
    )
    response_id: Mapped[str] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(100))
    row_key: Mapped[str | None] = mapped_column(String(100))
    option_key: Mapped[str | None] = mapped_column(String(100))
    number_value: Mapped[float | None]
    text_value: Mapped[str | None] = mapped_column(Text)
