"""Newsletter issues, one delivery row per recipient of an issue, and bounces received."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.models.base import Base, Vocabulary, VocabularyText
from shared.models.subscriptions import NewsletterList


class IssueStatus(Vocabulary):
    DRAFT = "draft", _l("Utkast")
    SCHEDULED = "scheduled", _l("Schemalagt")
    SENDING = "sending", _l("Skickas")
    PAUSED = "paused", _l("Pausat")
    SENT = "sent", _l("Skickat")
    CANCELLED = "cancelled", _l("Avbrutet")


class DeliveryStatus(Vocabulary):
    QUEUED = "queued", _l("I kö")
    SENDING = "sending", _l("Skickas")
    SENT = "sent", _l("Skickat")
    FAILED = "failed", _l("Misslyckades")
    CANCELLED = "cancelled", _l("Avbrutet")
    SKIPPED = "skipped", _l("Hoppades över")


class BounceKind(Vocabulary):
    HARD = "hard", _l("Permanent studs")
    SOFT = "soft", _l("Tillfällig studs")


class BounceSource(Vocabulary):
    SMTP = "smtp", _l("Vid utskick")
    DSN = "dsn", _l("Studsmeddelande")
    WEBHOOK = "webhook", _l("Från e-posttjänsten")


class Issue(Base):
    """One newsletter issue: written in Markdown, rendered once for mail, then sent to a list."""

    __tablename__ = "issues"
    __table_args__ = (Index("ix_issues_status_scheduled_at", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("newsletter_lists.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    preheader: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(Text, default="")  # Markdown, as the editor wrote it
    # Rendered once (with placeholders for the per-recipient parts) when sending starts.
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[IssueStatus] = mapped_column(VocabularyText(IssueStatus, 16), default=IssueStatus.DRAFT)
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who gets it: the active subscribers of its lists (``issue_lists``, else ``list_id``), narrowed
    # to a segment when one is chosen.
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("mail_templates.id", ondelete="SET NULL"))

    newsletter_list: Mapped[NewsletterList] = relationship()


class Delivery(Base):
    """One recipient of one issue. The unique key makes a second fan-out a no-op."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscription_id"),
        Index("ix_deliveries_status_due_at", "status", "due_at"),
        Index("ix_deliveries_issue_status", "issue_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[DeliveryStatus] = mapped_column(VocabularyText(DeliveryStatus, 16), default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


class BounceEvent(Base):
    """A bounce reported for an address (at send time, from a DSN or a webhook); soft ones are counted."""

    __tablename__ = "bounce_events"
    __table_args__ = (Index("ix_bounce_events_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    kind: Mapped[BounceKind] = mapped_column(VocabularyText(BounceKind, 8))
    source: Mapped[BounceSource] = mapped_column(VocabularyText(BounceSource, 16))
    status_code: Mapped[str] = mapped_column(String(16), default="")  # e.g. 5.1.1
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SendGrant(Base):
    """Mails the sending rate limit let one worker send, counted when granted. Every worker on every
    machine asks this one table, so a mail provider's limit per account holds for all of them together."""

    __tablename__ = "send_grants"
    __table_args__ = (Index("ix_send_grants_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    mails: Mapped[int]
