"""The development Outbox page: with MAIL_URL=file:… every mail "sent" is an .eml file we can show,
so a newcomer can open the confirmation mail and click through. Also lists mails still queued or failed."""
from __future__ import annotations

import email
import email.parser
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from flask import Blueprint, Response, abort, render_template
from markupsafe import Markup, escape
from sqlalchemy import select

from shared.models import OutboxMail, OutboxStatus
from shared.web import db_session, services
from shared.web.auth import login_required

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")

FILE_NAME = re.compile(r"^[0-9]{20}-[0-9a-f]{8}\.eml$")  # as FileTransport names them; nothing else is opened
URL = re.compile(r"https?://[^\s<>\"']+")
SHOWN_FILES = 200
# The mail's HTML is shown in a sandboxed frame: its inline styles may apply, nothing may run.
MAIL_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; frame-ancestors 'self'"


@dataclass
class FileMail:
    name: str
    date: datetime | None
    to: str
    subject: str


def _folder() -> Path | None:
    url = services().config.mail_url
    return url.directory if url.is_file else None


def _read(name: str):
    folder = _folder()
    if folder is None or not FILE_NAME.match(name):
        abort(404)
    path = folder / name
    if not path.is_file():
        abort(404)
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _date(msg) -> datetime | None:
    try:
        moment = parsedate_to_datetime(msg["Date"])
    except (TypeError, ValueError):
        return None
    # "-0000" (a time in UTC from a sender who does not say where it is) parses without a zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def list_files(folder: Path, limit: int = SHOWN_FILES) -> list[FileMail]:
    """The newest .eml files first (their names start with the time they were written)."""
    names = sorted((p.name for p in folder.glob("*.eml") if FILE_NAME.match(p.name)), reverse=True)[:limit]
    mails = []
    for name in names:
        with open(folder / name, "rb") as fh:
            msg = email.parser.BytesHeaderParser(policy=email.policy.default).parse(fh)
        mails.append(FileMail(name, _date(msg), str(msg["To"] or ""), str(msg["Subject"] or "")))
    return mails


def linkify(text: str) -> Markup:
    """Escape plain text and make its web addresses clickable."""
    out, last = [], 0
    for match in URL.finditer(text):
        out.append(escape(text[last:match.start()]))
        url = match.group(0)
        out.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def _part(msg, subtype: str) -> str | None:
    part = msg.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None and part.get_content_subtype() == subtype else None


@bp.get("/")
@login_required
def index():
    folder = _folder()
    files = list_files(folder) if folder is not None and folder.is_dir() else []
    waiting = db_session().scalars(
        select(OutboxMail).where(OutboxMail.status.in_((OutboxStatus.QUEUED, OutboxStatus.FAILED)))
        .order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc()).limit(200)
    ).all()
    return render_template("mailer/outbox/index.html", folder=folder, files=files, waiting=waiting)


@bp.get("/<name>")
@login_required
def show(name: str):
    msg = _read(name)
    text = _part(msg, "plain")
    html = _part(msg, "html")
    headers = [(k, str(v)) for k, v in msg.items()]
    return render_template(
        "mailer/outbox/show.html", name=name, headers=headers, subject=str(msg["Subject"] or ""),
        text=linkify(text) if text is not None else None, html=html,
    )


@bp.get("/<name>/html")
@login_required
def show_html(name: str):
    html = _part(_read(name), "html")
    if html is None:
        abort(404)
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": MAIL_HTML_CSP})
