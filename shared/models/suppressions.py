"""Addresses that get no more mail from either service (hard bounces, repeated soft bounces, erasure)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.models.base import Base, Vocabulary, VocabularyText


class SuppressionReason(Vocabulary):
    HARD_BOUNCE = "hard_bounce", _l("Permanent studs")
    SOFT_BOUNCES = "soft_bounces", _l("Upprepade tillfälliga studsar")
    ERASURE = "erasure", _l("Raderad på begäran")
    COMPLAINT = "complaint", _l("Klagomål")
    MANUAL = "manual", _l("Spärrad av redaktör")


class Suppression(Base):
    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[SuppressionReason] = mapped_column(VocabularyText(SuppressionReason, 32))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
