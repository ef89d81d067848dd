"""Newsletter lists, the people on them, and the proof of each person's consent."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.models.base import Base, Vocabulary, VocabularyText


class SubscriptionStatus(Vocabulary):
    PENDING = "pending", _l("Väntar på bekräftelse")
    ACTIVE = "active", _l("Aktiv")
    UNSUBSCRIBED = "unsubscribed", _l("Avslutad")


class ConsentMethod(Vocabulary):
    DOUBLE_OPT_IN = "double-opt-in", _l("Bekräftad via länk i mejl (dubbel opt-in)")
    IMPORT = "import", _l("Import, samtycke givet på annat sätt")
    EDITOR = "editor", _l("Tillagd av redaktör, samtycke givet på annat sätt")


class SubscriptionEventKind(Vocabulary):
    """What happened to a subscription (its history on the person's page)."""

    REQUESTED = "requested", _l("Anmälan")
    CONFIRMATION_SENT = "confirmation_sent", _l("Bekräftelsemejl skickat")
    CONFIRMED = "confirmed", _l("Bekräftad")
    UNSUBSCRIBED = "unsubscribed", _l("Avslutad")
    ALREADY_SUBSCRIBED_SENT = "already_subscribed_sent", _l("Mejl om att prenumerationen redan finns")
    REQUEST_LIMITED = "request_limited", _l("Anmälan utan mejl (gränsen nådd)")
    STOP_LINK_SENT = "stop_link_sent", _l("Avslutslänk skickad")
    IMPORTED = "imported", _l("Importerad")
    ADDED = "added", _l("Tillagd av redaktör")


class NewsletterList(Base):
    __tablename__ = "newsletter_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="sv")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Shown on the public start page and open to anyone; a list that is not public takes
    # subscribers only from editors (by hand or import).
    public: Mapped[bool] = mapped_column(default=True)
    # The From: of the list's issues; empty means the service's MAIL_FROM.
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    sender_email: Mapped[str] = mapped_column(String(320), default="")
    # The list's own consent text; empty means the built-in one. The version is recorded on
    # every subscription, so it changes whenever the text does.
    consent_text: Mapped[str] = mapped_column(Text, default="")
    consent_version: Mapped[str] = mapped_column(String(32), default="")
    # Aggregate link-click counts for the list's issues (off unless an editor turns it on).
    click_statistics: Mapped[bool] = mapped_column(default=False)
    archived_at: Mapped[datetime | None]


class Subscriber(Base):
    """One person (one address), whatever lists they are on."""

    __tablename__ = "subscribers"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="sv")
    # The other columns of the CSV they were imported from (municipality, role…), for segments.
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )


class Subscription(Base):
    """A subscriber on one list, with the consent record (requested, confirmed, from where, which text)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("list_id", "subscriber_id"),
        Index("ix_subscriptions_list_status", "list_id", "status"),
        # Stop links carry the id: an erased person's id must never be handed to someone new.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("newsletter_lists.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    status: Mapped[SubscriptionStatus] = mapped_column(
        VocabularyText(SubscriptionStatus, 16), default=SubscriptionStatus.PENDING
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # Consent record: where the request came from and what the person was shown.
    source_url: Mapped[str] = mapped_column(String(500), default="")
    request_ip: Mapped[str | None] = mapped_column(String(64))
    confirm_ip: Mapped[str | None] = mapped_column(String(64))
    consent_text_version: Mapped[str] = mapped_column(String(32), default="")
    consent_method: Mapped[ConsentMethod] = mapped_column(
        VocabularyText(ConsentMethod, 32), default=ConsentMethod.DOUBLE_OPT_IN
    )

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    newsletter_list: Mapped[NewsletterList] = relationship()
    events: Mapped[list[SubscriptionEvent]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="SubscriptionEvent.at"
    )


class SubscriptionEvent(Base):
    """History of a subscription: requested, confirmation sent, confirmed, stopped, imported, …"""

    __tablename__ = "subscription_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[SubscriptionEventKind] = mapped_column(VocabularyText(SubscriptionEventKind, 32))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class ImportRow(Base):
    """One line of a subscriber CSV being imported. The file is staged here, so the database checks
    it against the register in a few set statements whatever its size; the rows go when it is done."""

    __tablename__ = "import_rows"
    __table_args__ = (Index("ix_import_rows_key", "import_id", "email_key", "line"),)

    import_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    line: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # as written (for an invalid line: the raw value)
    email_key: Mapped[str | None] = mapped_column(String(320))  # lower case; None if the address is invalid
    name: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    problem: Mapped[str | None] = mapped_column(Text)  # why the address is invalid


class RateEvent(Base):
    """One counted action (a confirmation mail to an address, a form post from an IP, a failed
    login) for rate limits; ``key`` is the SHA-256 of what is counted (see ``shared.ratelimit``)."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLock(Base):
    """One row per counted key: writing it serialises the check-and-count of that key."""

    __tablename__ = "rate_locks"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime]
