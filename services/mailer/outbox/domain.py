"""The outbox as editors see it: mails still queued or failed, and, with MAIL_URL=file:…, every mail
"sent" as an .eml file, so a newcomer can open the confirmation mail and click through."""

from __future__ import annotations

import email
import email.parser
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.models import OutboxMail, OutboxStatus

WAITING = (OutboxStatus.QUEUED, OutboxStatus.FAILED)
SHOWN = 200
FILE_NAME = re.compile(r"^[0-9]{20}-[0-9a-f]{8}\.eml$")  # as FileTransport names them; nothing else is opened
URL = re.compile(r"https?://[^\s<>\"']+")


def waiting_counts(session: Session) -> dict[OutboxStatus, int]:
    """How many mails are queued and how many failed, counted by the database."""
    return dict(
        session.execute(
            select(OutboxMail.status, func.count()).where(OutboxMail.status.in_(WAITING)).group_by(OutboxMail.status)
        ).all()
    )


def waiting_mails(session: Session, limit: int = SHOWN) -> list[OutboxMail]:
    """The newest mails still queued or failed."""
    return list(
        session.scalars(
            select(OutboxMail)
            .where(OutboxMail.status.in_(WAITING))
            .order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
            .limit(limit)
        )
    )


@dataclass
class FileMail:
    name: str
    date: datetime | None
    to: str
    subject: str


def _date(msg) -> datetime | None:
    try:
        moment = parsedate_to_datetime(msg["Date"])
    except (TypeError, ValueError):
        return None
    # "-0000" (a time in UTC from a sender who does not say where it is) parses without a zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def list_files(folder: Path, limit: int = SHOWN) -> list[FileMail]:
    """The newest .eml files first (their names start with the time they were written)."""
    names = sorted((p.name for p in folder.glob("*.eml") if FILE_NAME.match(p.name)), reverse=True)[:limit]
    mails = []
    for name in names:
        with open(folder / name, "rb") as fh:
            msg = email.parser.BytesHeaderParser(policy=email.policy.default).parse(fh)
        mails.append(FileMail(name, _date(msg), str(msg["To"] or ""), str(msg["Subject"] or "")))
    return mails


def read_file(folder: Path, name: str) -> EmailMessage | None:
    """One mail of the folder by its file name; None when there is no such mail."""
    path = folder / name
    if not FILE_NAME.match(name) or not path.is_file():
        return None
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def body_part(msg: EmailMessage, subtype: str) -> str | None:
    """The text of the message's ``plain`` or ``html`` part, if it has one."""
    part = msg.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None and part.get_content_subtype() == subtype else None


def linkify(text: str) -> Markup:
    """Escape plain text and make its web addresses clickable."""
    out, last = [], 0
    for match in URL.finditer(text):
        out.append(escape(text[last : match.start()]))
        url = match.group(0)
        out.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)
