"""API keys (per account, named, scoped, stored hashed) and the stored answers of idempotent calls."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.models.accounts import AdminUser
from shared.models.base import Base, Vocabulary


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
