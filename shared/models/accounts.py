"""People who sign in to the admin: editors (mailer), evaluators (survey), admins (both)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.models.base import Base, Vocabulary, VocabularyText


class Role(Vocabulary):
    ADMIN = "admin", _l("Administratör")
    EDITOR = "editor", _l("Redaktör")
    EVALUATOR = "evaluator", _l("Utvärderare")


class AccountStatus(Vocabulary):
    INVITED = "invited", _l("Inbjuden")  # has no password yet: the invitation's link sets one
    ACTIVE = "active", _l("Aktiv")
    DISABLED = "disabled", _l("Avstängd")


class AdminUser(Base):
    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(VocabularyText(Role, 16))
    status: Mapped[AccountStatus] = mapped_column(
        VocabularyText(AccountStatus, 16), default=AccountStatus.ACTIVE, server_default=AccountStatus.ACTIVE.value
    )
    # Every session carries the version it started with; signing out, a new password or disabling
    # the account moves it on, which ends all of them in both services.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    def may_use(self, service: str) -> bool:
        """Editors work in the mailer, evaluators in the survey service, admins in both."""
        return self.role == Role.ADMIN or (service, self.role) in {("mailer", Role.EDITOR), ("survey", Role.EVALUATOR)}
