"""The Outbox page: mails still queued or failed, and (with a file outbox) every mail written."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template

from services.mailer.outbox import domain
from shared.web import db_session, services
from shared.web.auth import login_required

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")

# The mail's HTML is shown in a sandboxed frame: its inline styles may apply, nothing may run.
MAIL_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; frame-ancestors 'self'"


def _folder() -> Path | None:
    url = services().config.mail_url
    return url.directory if url.is_file else None


def _read(name: str):
    folder = _folder()
    msg = domain.read_file(folder, name) if folder is not None else None
    if msg is None:
        abort(404)
    return msg


@bp.get("/")
@login_required
def index():
    folder = _folder()
    files = domain.list_files(folder) if folder is not None and folder.is_dir() else []
    return render_template(
        "mailer/outbox/index.html", folder=folder, files=files, waiting=domain.waiting_mails(db_session())
    )


@bp.get("/<name>")
@login_required
def show(name: str):
    msg = _read(name)
    text = domain.body_part(msg, "plain")
    return render_template(
        "mailer/outbox/show.html",
        name=name,
        headers=[(k, str(v)) for k, v in msg.items()],
        subject=str(msg["Subject"] or ""),
        text=domain.linkify(text) if text is not None else None,
        html=domain.body_part(msg, "html"),
    )


@bp.get("/<name>/html")
@login_required
def show_html(name: str):
    html = domain.body_part(_read(name), "html")
    if html is None:
        abort(404)
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": MAIL_HTML_CSP})
