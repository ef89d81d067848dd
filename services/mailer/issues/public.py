"""The public archive: the issues a list has sent, newest first, each without anyone's personal links."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request

from services.mailer.issues import clicks, domain
from services.mailer.issues.personal import generic
from services.mailer.issues.rendering import archive_html
from services.mailer.subscriptions.domain import find_list
from shared.web import db_session, services

bp = Blueprint("archive", __name__)


@bp.get("/issues")
def index():
    s = db_session()
    newsletter_list = find_list(s, request.args.get("list") or None)
    if newsletter_list is None:
        abort(404)
    return render_template(
        "mailer/issues/archive_index.html",
        newsletter_list=newsletter_list,
        issues=domain.archived_issues(s, newsletter_list.id),
    )


@bp.get("/issues/<int:issue_id>")
def show(issue_id: int):
    s = db_session()
    issue = domain.archived_issue(s, issue_id)
    if issue is None:
        abort(404)
    return render_template(
        "mailer/issues/archive_show.html",
        issue=issue,
        subject=generic(issue.subject),
        body=archive_html(generic(issue.source)),
        newsletter_list=issue.newsletter_list,
    )


@bp.get("/l/<token>")
def follow_link(token: str):
    """A link in an issue: count one click for the issue and link (nobody's identity), then go on."""
    found = clicks.target(services().tokens, token)
    if found is None:
        abort(404)
    s = db_session()
    clicks.count_click(s, *found)
    s.commit()
    return redirect(found[1], code=302)
