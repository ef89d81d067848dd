"""API operations on newsletter issues: write, check, schedule, send, and watch them go out.
The rules are in ``domain``, as for the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from flask import abort
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from services.mailer.api import api
from services.mailer.issues import domain
from shared.api.blueprint import Page, current_key, cursor_after, json_response, next_cursor
from shared.api.problems import field_problem, problem
from shared.models import ApiScope, Issue, IssueStatus, NewsletterList
from shared.web import db_session, services
from shared.web.limits import body_limit

READ, WRITE = ApiScope.MAILER_READ, ApiScope.MAILER_WRITE
TAG = "Issues"
ISSUE_BYTES = 2 * 1024 * 1024  # a long issue's Markdown; other calls keep the public 64 kB


class IssueOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    list_id: int
    subject: str
    preheader: str
    source: str = Field(description="Markdown, as written.")
    status: IssueStatus
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime


class IssuesOut(BaseModel):
    items: list[IssueOut]
    next_cursor: str | None


class IssueIn(BaseModel):
    list_id: int | None = Field(None, ge=1, le=2**31 - 1, description="The default list if left out.")
    subject: str = Field(min_length=1, max_length=300)
    preheader: str = Field("", max_length=300)
    source: str = Field(
        min_length=1, max_length=1_000_000, description="The content in Markdown (the body may be up to 2 MB)."
    )


class IssueChange(BaseModel):
    subject: str | None = Field(None, min_length=1, max_length=300)
    preheader: str | None = Field(None, max_length=300)
    source: str | None = Field(None, min_length=1, max_length=1_000_000)


class IssuePath(BaseModel):
    issue_id: int = Field(ge=1, le=2**31 - 1)


class PreviewOut(BaseModel):
    subject: str
    html: str
    text: str


class TestIn(BaseModel):
    addresses: list[str] = Field(min_length=1, max_length=10, description="At most 10 addresses.")


class TestOut(BaseModel):
    sent_to: list[str]


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 in a zone that pushes it past the calendar
        raise ValueError("the time is outside the calendar in UTC") from None


class ScheduleIn(BaseModel):
    at: Annotated[AwareDatetime, AfterValidator(_in_utc)] = Field(
        description="When to send, with its zone (e.g. 2026-12-04T08:00:00+01:00)."
    )


class SendOut(BaseModel):
    issue: IssueOut
    recipients: int = Field(description="Mails queued (send) or cancelled (cancel).")


class ProgressOut(BaseModel):
    issue_id: int
    status: IssueStatus
    total: int
    queued: int
    sending: int
    sent: int
    failed: int
    cancelled: int
    skipped: int
    done: int
    percent: int
    rate_per_minute: float
    eta_seconds: int | None
    recipients_now: int = Field(description="Active subscribers the issue would go to if sent now.")


def _issue(issue_id: int) -> Issue:
    found = db_session().get(Issue, issue_id)
    if found is None:
        abort(404)
    return found


def _refused(exc: domain.IssueError):
    if exc.field:
        return field_problem(f"body.{exc.field}", str(exc))
    return problem(409, str(exc))


def _changed(issue: Issue, count: int | None = None):
    db_session().commit()
    if count is None:
        return json_response(IssueOut.model_validate(issue))
    return json_response(SendOut(issue=IssueOut.model_validate(issue), recipients=count))


@api.operation("GET", "/issues", scope=READ, tag=TAG, summary="All issues", responses={200: IssuesOut})
def issues(query: Page):
    found = domain.issues_after(db_session(), cursor_after(query.cursor), query.limit + 1)
    return json_response(
        IssuesOut(
            items=[IssueOut.model_validate(x) for x in found[: query.limit]],
            next_cursor=next_cursor([x.id for x in found], query.limit),
        )
    )


@api.operation("POST", "/issues", scope=WRITE, tag=TAG, summary="Write a new issue", responses={201: IssueOut})
@body_limit(ISSUE_BYTES)
def create_issue(body: IssueIn):
    """A draft on the list (Markdown content, as in the admin's editor)."""
    s = db_session()
    found = domain.find_list(s) if body.list_id is None else s.get(NewsletterList, body.list_id)
    if found is None:
        return field_problem("body.list_id", "No such list.", 404)
    try:
        issue = domain.create_issue(
            s,
            list_id=found.id,
            subject=body.subject,
            preheader=body.preheader,
            source=body.source,
            created_by=current_key().account_id,
        )
    except domain.IssueError as exc:
        return _refused(exc)
    s.commit()
    return json_response(IssueOut.model_validate(issue), 201)


@api.operation("GET", "/issues/<int:issue_id>", scope=READ, tag=TAG, summary="One issue", responses={200: IssueOut})
def get_issue(path: IssuePath):
    return json_response(IssueOut.model_validate(_issue(path.issue_id)))


@api.operation(
    "PATCH", "/issues/<int:issue_id>", scope=WRITE, tag=TAG, summary="Change a draft", responses={200: IssueOut}
)
@body_limit(ISSUE_BYTES)
def update_issue(path: IssuePath, body: IssueChange):
    """A draft or scheduled issue; fields left out stay as they are."""
    issue = _issue(path.issue_id)
    try:
        domain.update_issue(
            db_session(),
            services().config,
            issue,
            subject=issue.subject if body.subject is None else body.subject,
            preheader=issue.preheader if body.preheader is None else body.preheader,
            source=issue.source if body.source is None else body.source,
        )
    except domain.IssueError as exc:
        return _refused(exc)
    return _changed(issue)


@api.operation(
    "GET",
    "/issues/<int:issue_id>/preview",
    scope=READ,
    tag=TAG,
    summary="The mail as sent",
    responses={200: PreviewOut},
)
def preview(path: IssuePath):
    """HTML and text for a sample recipient, with an example stop link."""
    issue = _issue(path.issue_id)
    rendered = domain.preview(db_session(), services().config, issue, "Exempel Exempelsson (exempel@example.se)")
    return json_response(PreviewOut(subject=issue.subject, html=rendered.html, text=rendered.text))


@api.operation(
    "POST",
    "/issues/<int:issue_id>/test",
    scope=WRITE,
    tag=TAG,
    summary="Test send",
    responses={202: TestOut},
    sends_mail=True,
)
def test_send(path: IssuePath, body: TestIn):
    """The issue with the subject "[Test] …" to up to 10 addresses, through the outbox."""
    issue = _issue(path.issue_id)
    try:
        sent_to = domain.send_test(db_session(), services().config, issue, ",".join(body.addresses))
    except domain.IssueError as exc:
        return _refused(exc)
    db_session().commit()
    return json_response(TestOut(sent_to=sent_to), 202)


@api.operation(
    "POST",
    "/issues/<int:issue_id>/schedule",
    scope=WRITE,
    tag=TAG,
    summary="Schedule",
    responses={200: IssueOut},
    sends_mail=True,
)
def schedule(path: IssuePath, body: ScheduleIn):
    """The worker starts sending at `at`; the issue can still be changed until then."""
    issue = _issue(path.issue_id)
    try:
        domain.schedule(db_session(), services().config, issue, body.at)
    except domain.IssueError as exc:
        return _refused(exc)
    return _changed(issue)


@api.operation(
    "POST",
    "/issues/<int:issue_id>/unschedule",
    scope=WRITE,
    tag=TAG,
    summary="Back to draft",
    responses={200: IssueOut},
)
def unschedule(path: IssuePath):
    issue = _issue(path.issue_id)
    try:
        domain.unschedule(db_session(), issue)
    except domain.IssueError as exc:
        return _refused(exc)
    return _changed(issue)


@api.operation(
    "POST",
    "/issues/<int:issue_id>/send",
    scope=WRITE,
    tag=TAG,
    summary="Send now",
    responses={202: SendOut},
    sends_mail=True,
)
def send(path: IssuePath):
    """Queues the issue to every active subscriber of its list; the worker delivers."""
    issue = _issue(path.issue_id)
    try:
        count = domain.send_now(db_session(), services().config, issue)
    except domain.IssueError as exc:
        return _refused(exc)
    response = _changed(issue, count)
    response.status_code = 202
    return response


@api.operation(
    "POST", "/issues/<int:issue_id>/pause", scope=WRITE, tag=TAG, summary="Pause sending", responses={200: IssueOut}
)
def pause(path: IssuePath):
    issue = _issue(path.issue_id)
    try:
        domain.pause(db_session(), issue)
    except domain.IssueError as exc:
        return _refused(exc)
    return _changed(issue)


@api.operation(
    "POST", "/issues/<int:issue_id>/resume", scope=WRITE, tag=TAG, summary="Resume sending", responses={200: IssueOut}
)
def resume(path: IssuePath):
    issue = _issue(path.issue_id)
    try:
        domain.resume(db_session(), issue)
    except domain.IssueError as exc:
        return _refused(exc)
    return _changed(issue)


@api.operation(
    "POST", "/issues/<int:issue_id>/cancel", scope=WRITE, tag=TAG, summary="Cancel for good", responses={200: SendOut}
)
def cancel(path: IssuePath):
    """The mails not yet sent are cancelled; those on their way are finished."""
    issue = _issue(path.issue_id)
    try:
        count = domain.cancel(db_session(), issue)
    except domain.IssueError as exc:
        return _refused(exc)
    return _changed(issue, count)


@api.operation(
    "GET",
    "/issues/<int:issue_id>/progress",
    scope=READ,
    tag=TAG,
    summary="Progress and statistics",
    responses={200: ProgressOut},
)
def progress(path: IssuePath):
    """Deliveries per status, the rate of the last minutes and the estimated time left."""
    s = db_session()
    issue = _issue(path.issue_id)
    figures = domain.progress(s, issue).as_dict()
    return json_response(ProgressOut(**figures, recipients_now=domain.recipient_count(s, issue)))
