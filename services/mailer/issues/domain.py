"""Issues: write, render, test-send, schedule, send, pause/resume/cancel, progress, archive.

Every function takes a session and plain values and does its work in the caller's transaction;
the caller commits. Rendering needs a Flask app context (templates, translations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import yaml
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import exists, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from services.mailer.issues import clicks, personal
from services.mailer.issues.rendering import RECIPIENT, STOP_URL, RenderedIssue, body_html, body_text, mail_html
from services.mailer.layouts import domain as layouts
from services.mailer.segments import domain as segments
from services.mailer.subscriptions.domain import find_list, find_subscriber
from shared import organisation
from shared.clock import utcnow
from shared.config import Config
from shared.db import is_postgres
from shared.i18n import LOCAL_ZONE, language_or_default
from shared.mail.message import has_control_characters
from shared.mail.outbox import enqueue
from shared.models import (
    AdminUser,
    Delivery,
    DeliveryStatus,
    Issue,
    IssueRevision,
    IssueStatus,
    MailKind,
    NewsletterList,
)
from shared.models.base import UTCDateTime
from shared.tokens import Tokens

EDITABLE = (IssueStatus.DRAFT, IssueStatus.SCHEDULED)
MAX_TEST_ADDRESSES = 10


class IssueError(ValueError):
    """Something the editor can fix; ``field`` names the form field it belongs to (or None)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# -- writing -----------------------------------------------------------------------------------------


def _check_one_line(subject: str, preheader: str) -> None:
    # The subject becomes a header (a line break in it would add headers to every copy); the
    # preheader is shown beside it in the inbox.
    if has_control_characters(subject):
        raise IssueError(_("Ämnesraden får inte innehålla radbrytningar eller andra styrtecken."), "subject")
    if has_control_characters(preheader):
        raise IssueError(_("Förhandstexten får inte innehålla radbrytningar eller andra styrtecken."), "preheader")


def _check_texts(subject: str, preheader: str, source: str) -> tuple[str, str, str]:
    subject, preheader = (subject or "").strip(), (preheader or "").strip()
    if not subject:
        raise IssueError(_("Skriv en ämnesrad."), "subject")
    if len(subject) > 300:
        raise IssueError(_("Ämnesraden får vara högst 300 tecken."), "subject")
    if len(preheader) > 300:
        raise IssueError(_("Förhandstexten får vara högst 300 tecken."), "preheader")
    _check_one_line(subject, preheader)
    if not (source or "").strip():
        raise IssueError(_("Skriv brevets innehåll."), "source")
    for field, written in (("subject", subject), ("preheader", preheader), ("source", source)):
        try:
            personal.check(written)
        except personal.FieldError as exc:
            raise IssueError(str(exc), field) from None
    return subject, preheader, source.replace("\r\n", "\n")


def create_issue(
    session: Session, *, list_id: int, subject: str, preheader: str, source: str, created_by: int | None = None
) -> Issue:
    """A new draft issue."""
    subject, preheader, source = _check_texts(subject, preheader, source)
    issue = Issue(
        list_id=list_id,
        subject=subject,
        preheader=preheader,
        source=source,
        created_by=created_by,
        status=IssueStatus.DRAFT,
    )
    session.add(issue)
    session.flush()
    record_revision(session, issue, created_by)
    return issue


def update_issue(
    session: Session,
    config: Config,
    issue: Issue,
    *,
    subject: str,
    preheader: str,
    source: str,
    saved_by: int | None = None,
    autosave: bool = False,
) -> Issue:
    """Change a draft or scheduled issue (a scheduled one is rendered again); the change history
    gets the new texts."""
    if issue.status not in EDITABLE:
        raise IssueError(_("Brevet har redan börjat skickas och kan inte ändras."))
    issue.subject, issue.preheader, issue.source = _check_texts(subject, preheader, source)
    issue.updated_at = utcnow()
    if issue.status == IssueStatus.SCHEDULED:
        freeze(session, config, issue)
    record_revision(session, issue, saved_by, autosave=autosave)
    return issue


AUTOSAVE_MERGE = timedelta(minutes=10)


def record_revision(session: Session, issue: Issue, saved_by: int | None, *, autosave: bool = False) -> None:
    """Keep the issue's texts in its history. Autosaves by the same person within ten minutes
    replace each other, so the history shows the working sessions, not every few seconds."""
    now = utcnow()
    latest = session.scalar(
        select(IssueRevision).where(IssueRevision.issue_id == issue.id).order_by(IssueRevision.id.desc()).limit(1)
    )
    if latest is not None and (latest.subject, latest.preheader, latest.source) == (
        issue.subject,
        issue.preheader,
        issue.source,
    ):
        return  # nothing changed
    if (
        autosave
        and latest is not None
        and latest.autosave
        and latest.saved_by == saved_by
        and now - latest.saved_at < AUTOSAVE_MERGE
    ):
        latest.subject, latest.preheader, latest.source, latest.saved_at = (
            issue.subject,
            issue.preheader,
            issue.source,
            now,
        )
        return
    session.add(
        IssueRevision(
            issue_id=issue.id,
            subject=issue.subject,
            preheader=issue.preheader,
            source=issue.source,
            autosave=autosave,
            saved_by=saved_by,
            saved_at=now,
        )
    )


def revisions(session: Session, issue: Issue) -> list[tuple[IssueRevision, str | None]]:
    """The issue's history, newest first, with who saved each (their address, if the account is left)."""
    rows = session.execute(
        select(IssueRevision, AdminUser.email)
        .outerjoin(AdminUser, AdminUser.id == IssueRevision.saved_by)
        .where(IssueRevision.issue_id == issue.id)
        .order_by(IssueRevision.id.desc())
    )
    return [(revision, email) for revision, email in rows]


def restore_revision(
    session: Session, config: Config, issue: Issue, revision_id: int, saved_by: int | None
) -> IssueRevision:
    """Make an earlier version the current one (itself a new entry in the history)."""
    revision = session.get(IssueRevision, revision_id)
    if revision is None or revision.issue_id != issue.id:
        raise IssueError(_("Den versionen finns inte."))
    update_issue(
        session,
        config,
        issue,
        subject=revision.subject,
        preheader=revision.preheader,
        source=revision.source,
        saved_by=saved_by,
    )
    return revision


def parse_markdown_file(text: str) -> tuple[dict, str]:
    """Split a YAML front matter (``---`` … ``---``) from the Markdown body."""
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", text.lstrip("\ufeff"), re.S)
    if not match:
        return {}, text
    meta = yaml.safe_load(match.group(1)) or {}
    if not isinstance(meta, dict):
        raise IssueError("front matter must be a mapping (subject: …, preheader: …)")
    return meta, match.group(2)


def create_issue_from_markdown_file(
    session: Session, path: str | Path, list_slug: str | None = None, created_by: int | None = None
) -> Issue:
    """A draft from a Markdown file with front matter ``subject``/``preheader`` (like issue-demo.md)."""
    meta, source = parse_markdown_file(Path(path).read_text(encoding="utf-8"))
    newsletter_list = find_list(session, list_slug)
    if newsletter_list is None:
        raise IssueError(f"no list {list_slug!r}")
    return create_issue(
        session,
        list_id=newsletter_list.id,
        subject=str(meta.get("subject") or ""),
        preheader=str(meta.get("preheader") or ""),
        source=source,
        created_by=created_by,
    )


# -- rendering -----------------------------------------------------------------------------------------


def archive_url(config: Config, issue_id: int) -> str:
    return f"{config.mailer_url}/issues/{issue_id}"


def render(session: Session, config: Config, issue: Issue, *, count_clicks: bool = False) -> RenderedIssue:
    """The mail's HTML and text with placeholders for the recipient and stop link (app context needed).

    With ``count_clicks`` (what is sent, when the list counts clicks) the links go through the
    counting redirect; previews and test mails keep the editor's own links and count nothing.
    """
    from flask import render_template

    try:
        # A draft saved before personal fields were checked may hold an unknown one: never sent as it is.
        personal.check(issue.subject, issue.preheader, issue.source)
    except personal.FieldError as exc:
        raise IssueError(str(exc), "source") from None
    newsletter_list = session.get_one(NewsletterList, issue.list_id)
    links = (
        clicks.redirect_maker(config, Tokens(config.secret_keys), issue.id)
        if count_clicks and newsletter_list.click_statistics
        else None
    )
    language = language_or_default(newsletter_list.language)
    org = organisation.load(session, config)
    context = {
        "list_name": newsletter_list.name,
        "organisation_name": org.name,
        "stop_url": STOP_URL,
        "recipient": RECIPIENT,
        "archive_url": archive_url(config, issue.id),
        "subscribe_url": f"{config.mailer_url}/subscribe",
        "org": org,
        "public_url": config.mailer_url,
    }
    with force_locale(language):
        footer_html = render_template("mailer/issues/mail_footer.html", **context)
        footer_text = render_template("mailer/issues/mail_footer.txt", **context)
        look = layouts.layout(session, config, issue.template_id)
        if look.footer_text:
            own = escape(look.footer_text).replace("\n", Markup("<br>"))
            # The template's text is escaped here; the footer comes from an autoescaping template.
            footer_html = Markup("<p>") + own + Markup("</p>") + Markup(footer_html)  # noqa: S704
        header_links = [
            (_("Starta prenumeration"), f"{config.mailer_url}/subscribe"),
            (_("Avsluta prenumeration"), STOP_URL),
            (_("Läs i webbläsaren"), archive_url(config, issue.id)),
        ]
        html = mail_html(
            look=look,
            header_links=header_links if look.header_links else None,
            subject=personal.generic(issue.subject),
            preheader=personal.to_markers(issue.preheader),
            body=body_html(personal.to_markers(issue.source), links),
            footer=footer_html,
            organisation_name=org.name,
            language=language,
        )
    footer_text = (look.footer_text + "\n\n" if look.footer_text else "") + footer_text.strip()
    text = body_text(personal.to_markers(issue.source), links) + "\n-- \n" + footer_text + "\n"
    return RenderedIssue(html=html, text=text)


def preview(session: Session, config: Config, issue: Issue, sample: str) -> RenderedIssue:
    """The mail as a sample recipient would get it, with an example stop link."""
    rendered = render(session, config, issue)
    stop_url = f"{config.mailer_url}/unsubscribe/…"
    return RenderedIssue(
        html=rendered.html.replace(STOP_URL, stop_url).replace(RECIPIENT, sample),
        text=rendered.text.replace(STOP_URL, stop_url).replace(RECIPIENT, sample),
    )


def freeze(session: Session, config: Config, issue: Issue) -> None:
    """Render once and keep it: every mail of the issue is filled in from this."""
    _check_one_line(issue.subject, issue.preheader)  # a draft stored before the check existed
    rendered = render(session, config, issue, count_clicks=True)
    issue.html, issue.text = rendered.html, rendered.text


def sample_person(session: Session, email: str | None) -> tuple[personal.Person, str]:
    """Whom a preview or test mail is filled in for: the subscriber with this address, else an example person."""
    subscriber = find_subscriber(session, email.strip()) if email and email.strip() else None
    if subscriber is None:
        return personal.Person(_("Exempel Exempelsson")), "exempel@example.se"
    return personal.Person(subscriber.name), subscriber.email


def personalised(rendered: RenderedIssue, person: personal.Person, stop_url: str, recipient: str) -> RenderedIssue:
    """One recipient's HTML and text from the issue rendered once (previews and test mails)."""
    who = f"{person.name} ({recipient})" if person.name else recipient
    html = rendered.html.replace(STOP_URL, str(escape(stop_url))).replace(RECIPIENT, str(escape(who)))
    text = rendered.text.replace(STOP_URL, stop_url).replace(RECIPIENT, who)
    return RenderedIssue(html=personal.fill(html, person, html=True), text=personal.fill(text, person))


def send_test(
    session: Session, config: Config, issue: Issue, addresses: str, person_email: str | None = None
) -> list[str]:
    """Queue the issue to up to 10 given addresses (comma or line separated), personal fields filled
    in from the chosen subscriber (or an example person); return the addresses."""
    from email_validator import EmailNotValidError, validate_email

    wanted = [a.strip() for a in re.split(r"[,;\s]+", addresses or "") if a.strip()]
    if not wanted:
        raise IssueError(_("Skriv minst en e-postadress."), "addresses")
    if len(wanted) > MAX_TEST_ADDRESSES:
        raise IssueError(_("Högst %(n)s adresser åt gången.", n=MAX_TEST_ADDRESSES), "addresses")
    checked = []
    for address in wanted:
        try:
            checked.append(validate_email(address, check_deliverability=False).normalized)
        except EmailNotValidError:
            raise IssueError(_("%(address)s är inte en giltig e-postadress.", address=address), "addresses") from None
    _check_one_line(issue.subject, issue.preheader)
    rendered = render(session, config, issue)
    person, _example = sample_person(session, person_email)
    language = language_or_default(session.get_one(NewsletterList, issue.list_id).language)
    stop_url = f"{config.mailer_url}/unsubscribe"
    with force_locale(language):
        subject = _("[Test] %(subject)s", subject=personal.fill(personal.to_markers(issue.subject), person))
    for address in checked:
        mail = personalised(rendered, person, stop_url, address)
        enqueue(
            session,
            config,
            kind=MailKind.ISSUE_TEST,
            to_email=address,
            subject=subject,
            text=mail.text,
            html=mail.html,
            language=language,
        )
    return checked


# -- sending -----------------------------------------------------------------------------------------


def fan_out(session: Session, issue: Issue, now: datetime) -> int:
    """One delivery row per recipient (active, not suppressed, on the issue's lists or in its segment,
    each person once): a single INSERT … SELECT.

    ON CONFLICT DO NOTHING on (issue, subscription) makes running it twice harmless.
    """
    when = literal(now, UTCDateTime())
    queued = literal(DeliveryStatus.QUEUED, Delivery.status.type)
    rows = segments.fan_out_rows(session, issue, when, queued)
    postgres = is_postgres(session)
    dialect_insert = postgresql_insert if postgres else sqlite_insert
    statement = (
        dialect_insert(Delivery)
        .from_select(
            ["issue_id", "subscription_id", "email", "status", "attempts", "created_at", "due_at", "last_error"], rows
        )
        .on_conflict_do_nothing(index_elements=["issue_id", "subscription_id"])
    )
    count = select(func.count()).select_from(Delivery).where(Delivery.issue_id == issue.id)
    before = session.execute(count).scalar_one()
    session.execute(statement)
    if postgres:
        # Fresh statistics, so the claims that follow plan for a big table rather than an empty one.
        session.execute(text("ANALYZE deliveries"))
    # rowcount is not reliable for INSERT … SELECT on every driver: count instead (an index lookup).
    return session.execute(count).scalar_one() - before


def start_sending(session: Session, issue: Issue, now: datetime | None = None) -> int:
    """Turn a rendered draft or scheduled issue into queued deliveries; return how many."""
    now = now or utcnow()
    if issue.status not in EDITABLE:
        raise IssueError(_("Brevet har redan skickats eller avbrutits."))
    if not issue.html:
        raise IssueError("the issue was not rendered before sending")
    count = fan_out(session, issue, now)
    issue.status, issue.started_at, issue.scheduled_at = IssueStatus.SENDING, now, issue.scheduled_at or now
    return count


def send_now(session: Session, config: Config, issue: Issue, now: datetime | None = None) -> int:
    """Render and start sending at once (the worker delivers)."""
    if issue.status not in EDITABLE:
        raise IssueError(_("Brevet har redan skickats eller avbrutits."))
    freeze(session, config, issue)
    return start_sending(session, issue, now)


def parse_local_time(date_text: str, time_text: str) -> datetime:
    """'2026-05-20' + '08:30' in Swedish time → an aware UTC datetime."""
    try:
        local = datetime.strptime(f"{date_text.strip()} {time_text.strip()}", "%Y-%m-%d %H:%M")
    except (ValueError, AttributeError):
        raise IssueError(_("Ange datum som ÅÅÅÅ-MM-DD och tid som TT:MM."), "date") from None
    return local.replace(tzinfo=LOCAL_ZONE).astimezone(UTC)


def parse_iso(value: str) -> datetime:
    """An ISO date-time for the CLI; without a zone it is Swedish time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise IssueError(f"not an ISO date-time: {value!r} (e.g. 2026-05-20T08:30)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_ZONE)
    return moment.astimezone(UTC)


def schedule(session: Session, config: Config, issue: Issue, at: datetime, now: datetime | None = None) -> None:
    """Send at ``at`` (aware); the worker starts it when due."""
    now = now or utcnow()
    if issue.status not in EDITABLE:
        raise IssueError(_("Brevet har redan skickats eller avbrutits."))
    if at <= now - timedelta(minutes=1):
        raise IssueError(_("Tidpunkten har redan passerat."), "date")
    freeze(session, config, issue)
    issue.status, issue.scheduled_at = IssueStatus.SCHEDULED, at


def unschedule(session: Session, issue: Issue) -> None:
    """Back to draft."""
    if issue.status != IssueStatus.SCHEDULED:
        raise IssueError(_("Brevet är inte schemalagt."))
    issue.status, issue.scheduled_at = IssueStatus.DRAFT, None


def pause(session: Session, issue: Issue) -> None:
    """Workers stop taking this issue's mails; the ones in hand are finished."""
    if issue.status != IssueStatus.SENDING:
        raise IssueError(_("Bara ett brev som skickas kan pausas."))
    issue.status = IssueStatus.PAUSED


def resume(session: Session, issue: Issue) -> None:
    if issue.status != IssueStatus.PAUSED:
        raise IssueError(_("Brevet är inte pausat."))
    issue.status = IssueStatus.SENDING


def cancel(session: Session, issue: Issue, now: datetime | None = None) -> int:
    """Stop for good: the mails not yet sent are cancelled. Returns how many."""
    now = now or utcnow()
    if issue.status in (IssueStatus.SENT, IssueStatus.CANCELLED):
        raise IssueError(_("Brevet är redan klart."))
    issue.status, issue.finished_at = IssueStatus.CANCELLED, now
    # An UPDATE without RETURNING gives a CursorResult; Session.execute is typed for any statement.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Delivery)
            .where(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.QUEUED)
            .values(status=DeliveryStatus.CANCELLED, lease_until=None, claimed_by=None)
        ),
    )
    return result.rowcount or 0


def start_due_issues(session: Session, now: datetime | None = None) -> int:
    """Start every scheduled issue whose time has come (the worker runs this)."""
    now = now or utcnow()
    due = session.scalars(
        select(Issue)
        .where(Issue.status == IssueStatus.SCHEDULED, Issue.scheduled_at <= now)
        .with_for_update(skip_locked=True)
    ).all()
    for issue in due:
        start_sending(session, issue, now)
    return len(due)


def finish_issues(session: Session, now: datetime | None = None) -> int:
    """Mark issues sent once no delivery is waiting or in hand."""
    now = now or utcnow()
    waiting = exists().where(
        Delivery.issue_id == Issue.id, Delivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING))
    )
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Issue)
            .where(Issue.status == IssueStatus.SENDING, ~waiting)
            .values(status=IssueStatus.SENT, finished_at=now)
        ),
    )
    return result.rowcount or 0


# -- reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    issue_id: int
    status: IssueStatus
    total: int
    queued: int
    sending: int
    sent: int
    failed: int
    cancelled: int
    skipped: int
    rate_per_minute: float
    eta_seconds: int | None

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.cancelled + self.skipped

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == IssueStatus.SENT else 0)

    def as_dict(self) -> dict:
        return {**self.__dict__, "done": self.done, "percent": self.percent}


RATE_WINDOW = timedelta(minutes=5)


def progress(session: Session, issue: Issue, now: datetime | None = None) -> Progress:
    """Counts per delivery status (one GROUP BY), recent rate and estimated time left."""
    now = now or utcnow()
    counts = dict(
        session.execute(
            select(Delivery.status, func.count()).where(Delivery.issue_id == issue.id).group_by(Delivery.status)
        ).all()
    )
    since = max(now - RATE_WINDOW, issue.started_at or now)
    recent = (
        session.scalar(
            select(func.count()).where(
                Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= since
            )
        )
        or 0
    )
    seconds = max((now - since).total_seconds(), 1.0)
    rate = recent / seconds * 60
    n = {status: counts.get(status, 0) for status in DeliveryStatus}
    remaining = n[DeliveryStatus.QUEUED] + n[DeliveryStatus.SENDING]
    eta = int(remaining / (rate / 60)) if rate > 0 and remaining and issue.status == IssueStatus.SENDING else None
    return Progress(
        issue_id=issue.id,
        status=issue.status,
        total=sum(counts.values()),
        queued=n[DeliveryStatus.QUEUED],
        sending=n[DeliveryStatus.SENDING],
        sent=n[DeliveryStatus.SENT],
        failed=n[DeliveryStatus.FAILED],
        cancelled=n[DeliveryStatus.CANCELLED],
        skipped=n[DeliveryStatus.SKIPPED],
        rate_per_minute=round(rate, 1),
        eta_seconds=eta,
    )


def recipient_count(session: Session, issue: Issue) -> int:
    """How many would get the issue if it went now (each person once)."""
    return segments.issue_count(session, issue)


def list_issues(session: Session) -> list[Issue]:
    return list(session.scalars(select(Issue).order_by(Issue.created_at.desc(), Issue.id.desc())))


def issues_after(session: Session, after: int, limit: int) -> list[Issue]:
    """Up to ``limit`` issues with an id above ``after`` (the API's cursor), in id order."""
    return list(session.scalars(select(Issue).where(Issue.id > after).order_by(Issue.id).limit(limit)))


def failed_deliveries(session: Session, issue: Issue, limit: int = 50) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.FAILED)
            .order_by(Delivery.id)
            .limit(limit)
        )
    )


ARCHIVED = (IssueStatus.SENDING, IssueStatus.PAUSED, IssueStatus.SENT)


def archived_issues(session: Session, list_id: int) -> list[Issue]:
    """Issues that went out (or are going out) on a list, newest first."""
    return list(
        session.scalars(
            select(Issue)
            .where(Issue.list_id == list_id, Issue.status.in_(ARCHIVED))
            .order_by(Issue.started_at.desc(), Issue.id.desc())
        )
    )


def archived_issue(session: Session, issue_id: int) -> Issue | None:
    issue = session.get(Issue, issue_id)
    return issue if issue is not None and issue.status in ARCHIVED else None
