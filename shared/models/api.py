"""API keys (per account, named, scoped, stored hashed) and the stored answers of idempotent calls."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.models.accounts import AdminUser
from shared.models.base import Base, Vocabulary, VocabularyText


class ApiScope(Vocabulary):
    """What a key may do: read or change, in one service. Writing implies reading."""

    MAILER_READ = "mailer:read", _l("Nyhetsbrev: läsa")
    MAILER_WRITE = "mailer:write", _l("Nyhetsbrev: läsa och ändra, skicka")
    SURVEY_READ = "survey:read", _l("Enkäter: läsa resultat och deltagarlistor")
    SURVEY_WRITE = "survey:write", _l("Enkäter: läsa och ändra, skicka inbjudningar")
    # Answers person by person in a survey that is not anonymous: personal data, so asked for by name.
    SURVEY_RESPONSES = "survey:responses", _l("Enkäter: enskilda svar i enkäter som inte är anonyma")

    @property
    def service(self) -> str:
        return self.value.split(":")[0]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the key, shown in lists so that its owner can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256: keys are long and random
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    account: Mapped[AdminUser] = relationship()

    def allows(self, scope: ApiScope) -> bool:
        """Whether the key was given this scope (or, for a read scope, the service's write scope)."""
        if scope.value in self.scopes:
            return True
        service, verb = scope.value.split(":")
        return verb == "read" and f"{service}:write" in self.scopes


class IdempotentCall(Base):
    """A call that sent mail, under the caller's Idempotency-Key: a retry gets this answer again."""

    __tablename__ = "api_idempotent_calls"
    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebhookEvent(Vocabulary):
    """What a webhook can be told about; each belongs to one service."""

    SUBSCRIPTION_CONFIRMED = "subscription.confirmed", _l("Prenumeration bekräftad")
    SUBSCRIPTION_STOPPED = "subscription.stopped", _l("Prenumeration avslutad")
    BOUNCE = "bounce", _l("Studs")
    SURVEY_RESPONSES_REACHED = "survey.responses_reached", _l("Enkäten har nått ett antal svar")

    @property
    def service(self) -> str:
        return "survey" if self.value.startswith("survey.") else "mailer"


class WebhookDeliveryStatus(Vocabulary):
    QUEUED = "queued", _l("I kö")
    SENT = "sent", _l("Skickad")
    FAILED = "failed", _l("Misslyckades")


class Webhook(Base):
    """An address another system gave for events, with the secret its requests are signed with."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    service: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2000))
    # The HMAC key: kept as given out, since every delivery is signed with it.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    response_count: Mapped[int | None]  # survey.responses_reached: at how many complete responses
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]  # set: told nothing new, queued deliveries wait

    account: Mapped[AdminUser] = relationship()


class WebhookDelivery(Base):
    """One event on its way to one webhook; the worker posts it, retrying with growing pauses."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[WebhookEvent] = mapped_column(VocabularyText(WebhookEvent, 40))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, as signed
    status: Mapped[WebhookDeliveryStatus] = mapped_column(
        VocabularyText(WebhookDeliveryStatus, 16), default=WebhookDeliveryStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
