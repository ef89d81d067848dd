"""What editors make newsletters with: segments, the lists an issue goes to, mail templates, images,
the change history of an issue, and link clicks counted per issue and link (never per person)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.models.base import Base


class Segment(Base):
    """A saved filter: active subscribers of some lists, narrowed by attributes and dates.

    ``conditions`` is a list of ``{"field": …, "op": …, "value": …}`` (see
    ``services.mailer.segments.domain`` for the fields and operators).
    """

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    list_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IssueList(Base):
    """A list an issue goes to (besides ``issues.list_id``, which is the list it is archived under)."""

    __tablename__ = "issue_lists"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("newsletter_lists.id", ondelete="CASCADE"), primary_key=True)


class MailTemplate(Base):
    """A named layout for issues: logo, colours, header links and footer text."""

    __tablename__ = "mail_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    logo_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id", ondelete="SET NULL"))
    header_colour: Mapped[str] = mapped_column(String(7), default="#1d4e6e")
    text_colour: Mapped[str] = mapped_column(String(7), default="#ffffff")
    link_colour: Mapped[str] = mapped_column(String(7), default="#1d4e6e")
    header_links: Mapped[bool] = mapped_column(default=True)
    footer_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MediaFile(Base):
    """An uploaded image, resized for mail and kept in the database (served with long cache headers)."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int]
    height: Mapped[int]
    alt_text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IssueRevision(Base):
    """One saved state of an issue's texts: the change history (autosaves included)."""

    __tablename__ = "issue_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    preheader: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    autosave: Mapped[bool] = mapped_column(default=False)
    saved_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkClick(Base):
    """How many times a link in an issue was followed: a count per issue and link, nothing about who."""

    __tablename__ = "link_clicks"
    __table_args__ = (UniqueConstraint("issue_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    clicks: Mapped[int] = mapped_column(default=0)


class Setting(Base):
    """One organisation setting (name, address, privacy notice, …), shared by both services."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
