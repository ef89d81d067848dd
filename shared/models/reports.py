"""Evaluation reports: a survey's results put together by an evaluator, shown as a page, printed
as a PDF, and shared read-only through a link that can be revoked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.models.base import Base


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    introduction: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # In order, one per question shown: {"question": key, "breakdowns": ["attr:delregion", "q:KEY"],
    # "commentary": Markdown, "quotes": [free texts the evaluator chose]}.
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The participant attribute whose groups get a response-rate table ("" for none).
    response_rate_by: Mapped[str] = mapped_column(String(100), default="")
    # The read-only link's secret while the report is shared; None when it is not (revoked).
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
