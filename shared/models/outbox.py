"""The transactional outbox: mails written with the change that causes them, delivered by the worker."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.models.base import Base, Vocabulary, VocabularyText


class OutboxStatus(Vocabulary):
    QUEUED = "queued", _l("I kö")
    SENT = "sent", _l("Skickat")
    FAILED = "failed", _l("Misslyckades")
    SUPPRESSED = "suppressed", _l("Spärrad adress, inte skickat")


class MailKind(Vocabulary):
    """Why a mail in the outbox was written."""

    CONFIRMATION = "confirmation", _l("Bekräftelse av prenumeration")
    ALREADY_SUBSCRIBED = "already_subscribed", _l("Prenumerationen finns redan")
    STOP_LINK = "stop_link", _l("Länk för att avsluta")
    ISSUE_TEST = "issue_test", _l("Provutskick")
    SURVEY_INVITATION = "survey_invitation", _l("Inbjudan till enkät")
    SURVEY_REMINDER = "survey_reminder", _l("Påminnelse om enkät")
    ACCOUNT_INVITATION = "account_invitation", _l("Inbjudan till konto")
    PASSWORD_LINK = "password_link", _l("Länk för nytt lösenord")


class OutboxMail(Base):
    __tablename__ = "outbox_mails"
    __table_args__ = (Index("ix_outbox_mails_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MailKind] = mapped_column(VocabularyText(MailKind, 32))
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    message: Mapped[bytes] = mapped_column(LargeBinary)  # the complete RFC 5322 message, CRLF
    status: Mapped[OutboxStatus] = mapped_column(VocabularyText(OutboxStatus, 16), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
